import type { AppState, Session } from './state'

// The sign-in is kept in localStorage (every tab of this browser is signed in). The rooms, the current response
// and each room's position in its log are kept per tab in sessionStorage when the page is hidden or unloaded, so
// a reload resumes exactly where the page was: the socket rejoins with afterSeq and the answer under way ends
// complete, with nothing repeated.

const SESSION_KEY = 'skein:session'
const SNAPSHOT_KEY = 'skein:snapshot'

export interface Snapshot { user: string, state: AppState, positions: Record<string, number> }

export function loadSession (): Session | null {
  try {
    const s = JSON.parse(localStorage.getItem(SESSION_KEY) ?? 'null') as Session | null
    return s && typeof s.token === 'string' && typeof s.user === 'string' ? s : null
  } catch {
    return null
  }
}

export function saveSession (session: Session | null): void {
  try {
    if (session) localStorage.setItem(SESSION_KEY, JSON.stringify(session))
    else localStorage.removeItem(SESSION_KEY)
  } catch { /* storage full or disabled: the sign-in lasts for this page */ }
}

export function loadSnapshot (user: string): Snapshot | null {
  try {
    const s = JSON.parse(sessionStorage.getItem(SNAPSHOT_KEY) ?? 'null') as Snapshot | null
    return s && s.user === user && s.state && s.positions ? s : null
  } catch {
    return null
  }
}

export function saveSnapshot (snapshot: Snapshot | null): void {
  try {
    if (snapshot) sessionStorage.setItem(SNAPSHOT_KEY, JSON.stringify(snapshot))
    else sessionStorage.removeItem(SNAPSHOT_KEY)
  } catch { /* too big or disabled: a reload then starts from the server's history */ }
}
