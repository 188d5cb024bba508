import type { SEQUENCED_EVENTS, ServerEventName } from '@skein/schemas'

type Sequenced = (typeof SEQUENCED_EVENTS)[number]

// The schemas' SEQUENCED_EVENTS, restated so the browser bundle does not carry the schema library; the type
// below fails to compile if the two ever differ.
const SEQUENCED = ['new_message', 'llm_token', 'llm_complete', 'thread_created', 'thread_updated', 'thread_closed'] as const satisfies readonly Sequenced[]
const complete: [Exclude<Sequenced, (typeof SEQUENCED)[number]>] extends [never] ? true : false = true
void complete
const sequenced: ReadonlySet<string> = new Set(SEQUENCED)

/** Whether a server event carries a `seq` the client resumes from. */
export function isSequenced (event: ServerEventName): event is Sequenced {
  return sequenced.has(event)
}

/**
 * The rooms a client is in and, for each, the last `seq` it has delivered: what it rejoins with (`afterSeq`)
 * after a lost connection, and how it drops an event it already has (a replay overlapping what came live).
 */
export class RoomCursors {
  /** room → last seq delivered; undefined until the first join tells the room's position. */
  private readonly last = new Map<string, number | undefined>()

  constructor (resume: Record<string, number> = {}) {
    for (const [room, seq] of Object.entries(resume)) if (Number.isInteger(seq) && seq >= 0) this.last.set(room, seq)
  }

  has (room: string): boolean { return this.last.has(room) }
  rooms (): string[] { return [...this.last.keys()] }

  /** Follows a room; a given afterSeq is where it starts (unless the client is already further on). */
  track (room: string, afterSeq?: number): void {
    const current = this.last.get(room)
    if (afterSeq === undefined) {
      if (!this.last.has(room)) this.last.set(room, undefined)
      return
    }
    this.last.set(room, current === undefined ? afterSeq : Math.max(current, afterSeq))
  }

  untrack (room: string): void { this.last.delete(room) }

  /** What join_room should ask for: everything after the last seq delivered (undefined: from now on). */
  afterSeq (room: string): number | undefined { return this.last.get(room) }

  /** room_joined said where the room's log is: a first join (no afterSeq) starts there. */
  joined (room: string, lastSeq: number): void {
    if (this.last.has(room) && this.last.get(room) === undefined) this.last.set(room, lastSeq)
  }

  /** True when the event is new (and moves the cursor); false when the client already delivered it. */
  accept (room: string, seq: number): boolean {
    if (!this.last.has(room)) return true
    const current = this.last.get(room)
    if (current !== undefined && seq <= current) return false
    this.last.set(room, seq)
    return true
  }

  /** room → last seq delivered, for rooms with a known position: keep it to resume after a page reload. */
  snapshot (): Record<string, number> {
    const out: Record<string, number> = {}
    for (const [room, seq] of this.last) if (seq !== undefined) out[room] = seq
    return out
  }
}
