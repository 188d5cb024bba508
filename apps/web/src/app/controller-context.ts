import { createContext, useContext } from 'react'
import type { AppController } from './controller'

export const ControllerContext = createContext<AppController | null>(null)

/** The app's actions, for components to call (what they produce goes into the store, not back to them). */
export function useController (): AppController {
  const c = useContext(ControllerContext)
  if (!c) throw new Error('useController outside the ControllerContext')
  return c
}
