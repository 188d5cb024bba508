import { createContext, useContext, useRef, useSyncExternalStore } from 'react'
import { initialState, reduce, type Action, type AppState } from './state'

/** The app's one store: dispatch runs the reducer at once, so the state is always current outside React too. */
export class Store {
  private state: AppState
  private readonly listeners = new Set<() => void>()

  constructor (state: AppState = initialState) {
    this.state = state
  }

  getState = (): AppState => this.state

  dispatch = (action: Action): void => {
    const next = reduce(this.state, action)
    if (next === this.state) return
    this.state = next
    for (const fn of this.listeners) fn()
  }

  subscribe = (fn: () => void): (() => void) => {
    this.listeners.add(fn)
    return () => { this.listeners.delete(fn) }
  }
}

export const StoreContext = createContext<Store | null>(null)

/**
 * A slice of the app's state; the component renders again when that slice changes (by `equal`, default
 * Object.is: a selector that builds a new object each time passes an `equal` that compares its fields).
 */
export function useAppState<T> (select: (state: AppState) => T, equal: (a: T, b: T) => boolean = Object.is): T {
  const store = useContext(StoreContext)
  if (!store) throw new Error('useAppState outside the StoreContext')
  const last = useRef<{ value: T } | null>(null)
  const get = (): T => {
    const next = select(store.getState())
    if (last.current && equal(last.current.value, next)) return last.current.value
    last.current = { value: next }
    return next
  }
  return useSyncExternalStore(store.subscribe, get)
}
