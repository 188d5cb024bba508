import type { ThreadStatus } from '@skein/schemas'
import type { Session } from './session.js'

/**
 * A room as this funnel holds it: the sockets in it here, how many of them each user has, the status of the
 * room's thread, and the timers that batch its presence (one frame per room per beat, however many join).
 */
export class LocalRoom {
  readonly sessions = new Set<Session>()
  private readonly users = new Map<string, number>()
  /** The presence last shown here (members joined by newlines), to send only changes. */
  shown = ''
  presenceTimer: NodeJS.Timeout | undefined
  announceTimer: NodeJS.Timeout | undefined

  constructor (readonly id: string, public status: ThreadStatus) {}

  /** Adds a socket; true when its user was not here before. */
  add (s: Session): boolean {
    this.sessions.add(s)
    const n = this.users.get(s.user) ?? 0
    this.users.set(s.user, n + 1)
    return n === 0
  }

  /** Removes a socket; true when its user has no other socket here. */
  remove (s: Session): boolean {
    if (!this.sessions.delete(s)) return false
    const n = (this.users.get(s.user) ?? 1) - 1
    if (n > 0) {
      this.users.set(s.user, n)
      return false
    }
    this.users.delete(s.user)
    return true
  }

  get empty (): boolean {
    return this.sessions.size === 0
  }

  localUsers (): string[] {
    return [...this.users.keys()]
  }

  dispose (): void {
    clearTimeout(this.presenceTimer)
    clearTimeout(this.announceTimer)
  }
}
