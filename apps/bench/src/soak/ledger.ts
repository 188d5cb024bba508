// What every soak client received, room by room and seq by seq, and the check that nothing acknowledged was
// lost: every sequenced event of a room reached every member exactly once (the sender of a chat message gets
// the ack instead), every streamed answer's tokens make its llm_complete text at every member, every task
// reached `completed`.
import { SeenSet } from '../realtime/latency.js'

/** A sequenced event as the ledger names it in a finding. */
interface EventNote {
  event: string
  /** The message id, `messageId#index` of a token, or the thread of a lifecycle event. */
  ref: string
  /** The author of a new_message: that member is not sent its own message. */
  author?: string
}

/** One member of one room: the seqs it got, in what order, and the answers it is assembling. */
class Membership {
  readonly seen = new SeenSet()
  last = 0
  duplicates = 0
  outOfOrder = 0
  /** Answers streaming: messageId → tokens by index. */
  readonly streams = new Map<string, string[]>()

  constructor (readonly user: string) {}
}

interface RoomBook {
  notes: Map<number, EventNote>
  members: Membership[]
  /** Events at or below it (seen before the check began) are not checked. */
  floor: number
  highest: number
}

interface AnswerBook {
  room: string
  messageId: string
  /** Who asked (undefined: a stream the soak did not ask for, e.g. a retry under a new id). */
  requester?: string
  /** Members that got its llm_complete. */
  completes: number
  /** How each member's tokens compared with the llm_complete text, when they differed. */
  mismatches: string[]
  finishReasons: Set<string>
  tokens: number
}

interface TaskBook {
  thread: string
  creator?: string
  /** Status per main-room watcher (its last thread_updated). */
  statuses: Map<number, string>
  closed: Set<number>
  error?: string
}

export interface LedgerCheck {
  rooms: number
  /** Sequenced events checked (seq above each room's floor), and deliveries they called for. */
  events: number
  expectedDeliveries: number
  delivered: number
  missing: number
  duplicates: number
  outOfOrder: number
  messages: { acked: number, expectedDeliveries: number, missing: number }
  answers: { requested: number, streams: number, complete: number, incomplete: number, mismatched: number, tokenDeliveries: number, finishReasons: Record<string, number> }
  tasks: { created: number, completed: number, notCompleted: number }
  /** What was lost or wrong, named by room, seq, id and member (the first few of each kind). */
  findings: string[]
  lost: boolean
}

const FINDINGS_PER_KIND = 12

/**
 * The soak's record of deliveries. Clients are numbered; a client joins rooms (`join`), and everything it
 * receives goes through `receive`. Acks of the soak's own requests go through `acked`, `answerAsked` and
 * `taskCreated`. `check` compares the lot.
 */
export class DeliveryLedger {
  private readonly rooms = new Map<string, RoomBook>()
  private readonly byClient: Array<Map<string, Membership>> = []
  private readonly acks = new Map<string, Map<number, string>>()
  private readonly answers = new Map<string, AnswerBook>()
  private readonly tasks = new Map<string, TaskBook>()
  private readonly watchers = new Set<number>()
  /** Sequenced frames received, all clients together. */
  deliveries = 0

  constructor (private readonly mainRoom = 'main') {}

  private room (room: string): RoomBook {
    let book = this.rooms.get(room)
    if (!book) this.rooms.set(room, book = { notes: new Map(), members: [], floor: 0, highest: 0 })
    return book
  }

  /** Client `client` (user `user`) is a member of `room` from now on. */
  join (client: number, user: string, room: string): void {
    const mine = this.byClient[client] ??= new Map()
    if (mine.has(room)) return
    const m = new Membership(user)
    mine.set(room, m)
    this.room(room).members.push(m)
    if (room === this.mainRoom) this.watchers.add(client)
  }

  /**
   * From here on every event of every room is checked: what members saw before (a room's history, events
   * while others were still joining) is not. Call it once everyone has joined, before the load starts.
   */
  beginCheck (): void {
    for (const book of this.rooms.values()) book.floor = book.highest
  }

  /** A sequenced frame (new_message, llm_token, llm_complete, thread_*) that client `client` received. */
  receive (client: number, event: string, data: Record<string, unknown>): void {
    const room = data.room as string
    const seq = data.seq as number
    const m = this.byClient[client]?.get(room)
    if (!m) return
    this.deliveries++
    if (m.seen.has(seq)) {
      m.duplicates++
      return
    }
    m.seen.add(seq)
    if (seq < m.last) m.outOfOrder++
    else m.last = seq
    const book = this.room(room)
    if (seq > book.highest) book.highest = seq
    if (!book.notes.has(seq)) book.notes.set(seq, noteOf(event, data))
    if (event === 'llm_token') this.token(m, data)
    else if (event === 'llm_complete') this.complete(m, room, data)
    else if ((event === 'thread_updated' || event === 'thread_closed') && room === this.mainRoom) this.lifecycle(client, event, data)
  }

  private token (m: Membership, data: Record<string, unknown>): void {
    const id = data.messageId as string
    let tokens = m.streams.get(id)
    if (!tokens) m.streams.set(id, tokens = [])
    tokens[data.index as number] = data.token as string
  }

  private answer (room: string, messageId: string): AnswerBook {
    let a = this.answers.get(messageId)
    if (!a) this.answers.set(messageId, a = { room, messageId, completes: 0, mismatches: [], finishReasons: new Set(), tokens: 0 })
    return a
  }

  private complete (m: Membership, room: string, data: Record<string, unknown>): void {
    const id = data.messageId as string
    const text = data.text as string
    const a = this.answer(room, id)
    a.completes++
    a.finishReasons.add(typeof data.finishReason === 'string' ? data.finishReason : 'none')
    const tokens = m.streams.get(id) ?? []
    m.streams.delete(id)
    a.tokens += tokens.length
    let holes = 0
    for (let i = 0; i < tokens.length; i++) if (tokens[i] === undefined) holes++
    const joined = tokens.join('')
    if (holes > 0 || joined !== text) {
      a.mismatches.push(`${m.user}: ${tokens.length} tokens${holes ? ` with ${holes} missing` : ''} make ${joined.length} characters, llm_complete has ${text.length}${holes ? '' : ` (first difference at ${firstDifference(joined, text)})`}`)
    }
  }

  private lifecycle (client: number, event: string, data: Record<string, unknown>): void {
    const thread = data.thread as string
    let t = this.tasks.get(thread)
    if (!t) this.tasks.set(thread, t = { thread, statuses: new Map(), closed: new Set() })
    if (event === 'thread_closed') {
      t.closed.add(client)
      return
    }
    t.statuses.set(client, data.status as string)
    const error = data.error as { code?: string, message?: string } | null | undefined
    if (error) t.error = `${error.code ?? ''} ${error.message ?? ''}`.trim()
  }

  /** The server acknowledged `user`'s chat message (or the prompt of its llm_request) in `room` as `seq`. */
  acked (room: string, seq: number, user: string): void {
    let mine = this.acks.get(room)
    if (!mine) this.acks.set(room, mine = new Map())
    mine.set(seq, user)
  }

  /** `user`'s llm_request in `room` was acknowledged: its prompt is `seq`, its answer streams as `messageId`. */
  answerAsked (room: string, seq: number, messageId: string, user: string): void {
    this.acked(room, seq, user)
    this.answer(room, messageId).requester = user
  }

  /** `user`'s create_task was acknowledged as thread `thread`. */
  taskCreated (thread: string, user: string): void {
    let t = this.tasks.get(thread)
    if (!t) this.tasks.set(thread, t = { thread, statuses: new Map(), closed: new Set() })
    t.creator = user
  }

  /** The soak's own answers and tasks that are not finished at every member yet (the drain waits for 0). */
  unfinished (): { answers: number, tasks: number } {
    let answers = 0
    for (const a of this.answers.values()) if (a.requester !== undefined && a.completes < this.room(a.room).members.length) answers++
    let tasks = 0
    for (const t of this.tasks.values()) if (t.creator !== undefined && this.completedAt(t) < this.watchers.size) tasks++
    return { answers, tasks }
  }

  private completedAt (t: TaskBook): number {
    let n = 0
    for (const [watcher, status] of t.statuses) if (status === 'completed' && t.closed.has(watcher)) n++
    return n
  }

  check (): LedgerCheck {
    const findings: Record<string, string[]> = { missing: [], duplicate: [], order: [], answer: [], task: [] }
    const note = (kind: string, text: string): void => { if (findings[kind]!.length < FINDINGS_PER_KIND) findings[kind]!.push(text) }
    const c: LedgerCheck = {
      rooms: this.rooms.size,
      events: 0,
      expectedDeliveries: 0,
      delivered: 0,
      missing: 0,
      duplicates: 0,
      outOfOrder: 0,
      messages: { acked: 0, expectedDeliveries: 0, missing: 0 },
      answers: { requested: 0, streams: this.answers.size, complete: 0, incomplete: 0, mismatched: 0, tokenDeliveries: 0, finishReasons: {} },
      tasks: { created: 0, completed: 0, notCompleted: 0 },
      findings: [],
      lost: false
    }
    for (const [room, book] of this.rooms) {
      // An acknowledged message nobody received is still owed to every member but its sender.
      for (const [seq, user] of this.acks.get(room) ?? []) {
        if (!book.notes.has(seq)) book.notes.set(seq, { event: 'new_message', ref: '(acked, never delivered)', author: user })
        c.messages.acked++
      }
      const acked = this.acks.get(room)
      for (const [seq, n] of book.notes) {
        if (seq <= book.floor) continue
        c.events++
        for (const m of book.members) {
          if (n.event === 'new_message' && n.author === m.user) continue
          c.expectedDeliveries++
          const has = m.seen.has(seq)
          if (acked?.has(seq)) {
            c.messages.expectedDeliveries++
            if (!has) c.messages.missing++
          }
          if (has) {
            c.delivered++
          } else {
            c.missing++
            note('missing', `${m.user} never got ${n.event} seq ${seq} (${n.ref}${n.author ? ` from ${n.author}` : ''}) in room ${room}`)
          }
        }
      }
      for (const m of book.members) {
        c.duplicates += m.duplicates
        c.outOfOrder += m.outOfOrder
        if (m.duplicates) note('duplicate', `${m.user} got ${m.duplicates} event(s) of room ${room} twice`)
        if (m.outOfOrder) note('order', `${m.user} got ${m.outOfOrder} event(s) of room ${room} after a later seq`)
        for (const [id, tokens] of m.streams) note('answer', `${m.user} got ${tokens.length} token(s) of ${id} in room ${room} and no llm_complete`)
      }
    }
    for (const a of this.answers.values()) {
      const members = this.room(a.room).members.length
      if (a.requester !== undefined) c.answers.requested++
      for (const r of a.finishReasons) c.answers.finishReasons[r] = (c.answers.finishReasons[r] ?? 0) + 1
      c.answers.tokenDeliveries += a.tokens
      if (a.mismatches.length) {
        c.answers.mismatched++
        note('answer', `${a.messageId} in room ${a.room}: ${a.mismatches.length} member(s) assembled another text, e.g. ${a.mismatches[0]!}`)
      }
      if (a.completes >= members) {
        c.answers.complete++
      } else {
        c.answers.incomplete++
        note('answer', `${a.messageId} in room ${a.room}${a.requester ? ` (asked by ${a.requester})` : ''}: llm_complete reached ${a.completes} of ${members} members`)
      }
      const odd = [...a.finishReasons].filter((r) => r !== 'stop')
      if (odd.length) note('answer', `${a.messageId} in room ${a.room} ended with finishReason ${odd.join(', ')}`)
    }
    for (const t of this.tasks.values()) {
      if (t.creator === undefined) continue
      c.tasks.created++
      const done = this.completedAt(t)
      if (done >= this.watchers.size) {
        c.tasks.completed++
      } else {
        c.tasks.notCompleted++
        const seen = [...new Set(t.statuses.values())].join('/') || 'no event'
        note('task', `task ${t.thread} (by ${t.creator}): completed and closed at ${done} of ${this.watchers.size} main-room watchers (last status seen: ${seen}${t.error ? `; error ${t.error}` : ''})`)
      }
    }
    c.findings = Object.values(findings).flat()
    c.lost = c.missing > 0 || c.duplicates > 0 || c.outOfOrder > 0 || c.answers.mismatched > 0 || c.answers.incomplete > 0 || c.tasks.notCompleted > 0 ||
      Object.keys(c.answers.finishReasons).some((r) => r !== 'stop')
    return c
  }
}

function noteOf (event: string, data: Record<string, unknown>): EventNote {
  switch (event) {
    case 'new_message':
      return { event, ref: String(data.id), author: String(data.user) }
    case 'llm_token':
      return { event, ref: `${String(data.messageId)}#${String(data.index)}` }
    case 'llm_complete':
      return { event, ref: String(data.messageId) }
    default:
      return { event, ref: `${String(data.thread && typeof data.thread === 'object' ? (data.thread as { id?: string }).id : data.thread)}${data.status ? ` ${String(data.status)}` : ''}` }
  }
}

function firstDifference (a: string, b: string): number {
  let i = 0
  while (i < a.length && i < b.length && a[i] === b[i]) i++
  return i
}
