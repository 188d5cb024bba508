import type { ConnectionState, EventData } from '@skein/client'
import type { ThreadKind, ThreadMessage, ThreadStatus, ThreadTree } from '@skein/schemas'

// The app's state: one object, changed only by `reduce`. Components read it; what they produce (an answer, a
// picture, search results, an error) comes back into it as an action, and every part reads it from here.

export const MAIN = 'main'
/** Entries kept per room (older ones are dropped from the view, not from the server). */
export const ROOM_LIMIT = 300

export interface Session { user: string, token: string, expiresAt: string }

/** A person's message (or a report, or a note) in a room's log. */
export interface Message {
  id: string
  seq: number | null
  user: string
  text: string
  ts: string
  role: 'user' | 'report' | 'system'
  from?: string
  clientId?: string
  /** Sent by this user, not yet confirmed by the server. */
  pending?: boolean
  failed?: string
}

/** An assistant's answer: its tokens by index while it streams, then the whole text. */
export interface Answer {
  messageId: string
  seq: number
  tokens: string[]
  text: string | null
  finishReason?: string
  model?: string
  completionTokens?: number
}

export interface RoomState {
  id: string
  members: string[]
  /** user → when their "typing" lapses (ms since epoch). */
  typing: Record<string, number>
  messages: Record<string, Message>
  answers: Record<string, Answer>
  info: { kind: ThreadKind, status: ThreadStatus, task: string, private: boolean } | null
  /** Older messages remain on the server before this seq ("Load earlier messages"); null: none, or none known. */
  earlier: number | null
  /**
   * How many entries the room keeps: the newest ROOM_LIMIT; null, all of them, once the reader asked for earlier
   * pages (what they loaded stays while they are in the room, new messages included).
   */
  keep: number | null
}

/** Where a response's media was saved: the URL a browser loads it from. */
export interface Media { kind: 'audio' | 'image', url: string, mime: string, size: number, width?: number, height?: number }
export type MediaSlot = { state: 'pending', width?: number, height?: number } | { state: 'ready', media: Media } | { state: 'failed', error: string }

/**
 * The current response: what the display area shows. An answer's text is read from its room (so a resumed
 * stream shows there as it arrives); a thread's from its messages; search results carry their own text.
 */
export interface CurrentResponse {
  id: string
  kind: 'answer' | 'thread' | 'memory' | 'documents'
  title: string
  room?: string
  messageId?: string
  thread?: string
  text?: string
  error?: string
  audio?: MediaSlot
  image?: MediaSlot
  /** Speak the answer once it is complete. */
  speak?: boolean
}

export interface ThreadNode {
  id: string
  kind: ThreadKind
  parent: string | null
  task: string
  status: ThreadStatus
  children: string[]
  result: string | null
}

export interface Notice { id: string, text: string }

export interface AppState {
  session: Session | null
  connection: ConnectionState
  currentRoom: string
  /** Rooms joined, in the order they were joined. */
  roomOrder: string[]
  rooms: Record<string, RoomState>
  response: CurrentResponse | null
  threads: Record<string, ThreadNode>
  threadMessages: Record<string, { loading: boolean, messages: ThreadMessage[], error?: string }>
  notices: Notice[]
  /** Requests under way, by name (buttons read it to show progress and avoid double submits). */
  busy: Record<string, boolean>
  collections: string[]
  models: string[]
}

export const initialState: AppState = {
  session: null,
  connection: 'idle',
  currentRoom: MAIN,
  roomOrder: [],
  rooms: {},
  response: null,
  threads: {},
  threadMessages: {},
  notices: [],
  busy: {},
  collections: [],
  models: []
}

export type Action =
  | { type: 'signed_in', session: Session }
  | { type: 'signed_out' }
  | { type: 'restored', state: AppState }
  | { type: 'connection', state: ConnectionState }
  | { type: 'room_joined', data: EventData<'room_joined'> }
  | { type: 'room_left', room: string }
  | { type: 'room_selected', room: string }
  | { type: 'presence', data: EventData<'presence'> }
  | { type: 'typing', room: string, user: string, until: number | null }
  | { type: 'new_message', data: EventData<'new_message'> }
  | { type: 'own_message', room: string, clientId: string, user: string, text: string }
  | { type: 'own_message_acked', room: string, clientId: string, id: string, seq: number }
  | { type: 'own_message_failed', room: string, clientId: string, error: string }
  /** A page of the room's log: the newest (on join), or `older` ones asked for; `earlier` says what remains before it. */
  | { type: 'history', room: string, messages: ThreadMessage[], earlier: number | null, older?: boolean }
  /** The reader asked for earlier messages: from now on the room keeps all it holds (nothing is cut meanwhile). */
  | { type: 'keep_all', room: string }
  | { type: 'llm_token', data: EventData<'llm_token'> }
  | { type: 'llm_complete', data: EventData<'llm_complete'> }
  | { type: 'thread_created', data: EventData<'thread_created'> }
  | { type: 'thread_updated', data: EventData<'thread_updated'> }
  | { type: 'thread_closed', data: EventData<'thread_closed'> }
  | { type: 'tree', tree: ThreadTree, parent: string | null }
  | { type: 'thread_messages', thread: string, loading: boolean, messages?: ThreadMessage[], error?: string }
  | { type: 'response', response: CurrentResponse }
  | { type: 'response_patch', id: string, patch: Partial<CurrentResponse> }
  | { type: 'notice', notice: Notice }
  | { type: 'notice_dismissed', id: string }
  | { type: 'busy', key: string, busy: boolean }
  | { type: 'collections', names: string[] }
  | { type: 'models', ids: string[] }

const emptyRoom = (id: string): RoomState => ({ id, members: [], typing: {}, messages: {}, answers: {}, info: null, earlier: null, keep: ROOM_LIMIT })

function withRoom (state: AppState, id: string, change: (room: RoomState) => RoomState): AppState {
  const room = state.rooms[id] ?? emptyRoom(id)
  return { ...state, rooms: { ...state.rooms, [id]: trim(change(room)) } }
}

/** Keeps the newest entries of a room (see `keep`); what it drops can be loaded again ("Load earlier messages"). */
function trim (room: RoomState): RoomState {
  if (room.keep === null) return room
  const ids = Object.keys(room.messages).length + Object.keys(room.answers).length
  // A room saved (in a page's snapshot) before `keep` existed keeps ROOM_LIMIT.
  const limit = room.keep ?? ROOM_LIMIT
  if (ids <= limit) return room
  const cut = logOf(room)[ids - limit]!.seq
  const keep = <T extends { seq: number | null }>(rec: Record<string, T>): Record<string, T> =>
    Object.fromEntries(Object.entries(rec).filter(([, v]) => v.seq === null || v.seq >= cut))
  return { ...room, messages: keep(room.messages), answers: keep(room.answers), earlier: cut }
}

export type LogEntry = { kind: 'message', seq: number, message: Message } | { kind: 'answer', seq: number, answer: Answer }

/** A room's messages and answers in the order of the room's log; unconfirmed messages last. */
export function logOf (room: RoomState): LogEntry[] {
  const entries: LogEntry[] = [
    ...Object.values(room.messages).map((m): LogEntry => ({ kind: 'message', seq: m.seq ?? Number.MAX_SAFE_INTEGER, message: m })),
    ...Object.values(room.answers).map((a): LogEntry => ({ kind: 'answer', seq: a.seq, answer: a }))
  ]
  return entries.sort((a, b) => a.seq - b.seq)
}

/** The text of an answer so far. */
export const answerText = (a: Answer): string => a.text ?? a.tokens.join('')

function messageFrom (m: ThreadMessage | EventData<'new_message'>): Message {
  const base = 'thread' in m
    ? { id: m.id, seq: m.seq, user: m.author, text: m.text, ts: m.ts, role: m.role, from: m.from }
    : { id: m.id, seq: m.seq, user: m.user, text: m.text, ts: m.ts, role: m.role ?? 'user', from: m.from, clientId: m.clientId }
  const role = base.role === 'report' || base.role === 'system' ? base.role : 'user'
  return {
    id: base.id,
    seq: base.seq,
    user: base.user,
    text: base.text,
    ts: base.ts,
    role,
    ...(base.from ? { from: base.from } : {}),
    ...('clientId' in base && base.clientId ? { clientId: base.clientId } : {})
  }
}

/** Adds a message unless the room has it (by id, or as this user's own message by its client id). */
function addMessage (room: RoomState, m: Message): RoomState {
  if (room.messages[m.id]) return room
  const messages = { ...room.messages }
  const own = m.clientId ? messages[`local:${m.clientId}`] : undefined
  if (own) delete messages[`local:${m.clientId}`]
  messages[m.id] = own ? { ...m, clientId: own.clientId } : m
  return { ...room, messages }
}

function setNode (state: AppState, node: ThreadNode): AppState {
  const threads = { ...state.threads, [node.id]: node }
  const parent = node.parent ? threads[node.parent] : undefined
  if (parent && !parent.children.includes(node.id)) threads[parent.id] = { ...parent, children: [...parent.children, node.id] }
  return { ...state, threads }
}

function flatten (tree: ThreadTree, parent: string | null, out: ThreadNode[]): void {
  out.push({ id: tree.id, kind: tree.kind, parent, task: tree.task, status: tree.status, children: tree.children.map((c) => c.id), result: tree.result })
  for (const c of tree.children) flatten(c, tree.id, out)
}

export function reduce (state: AppState, action: Action): AppState {
  switch (action.type) {
    case 'signed_in':
      return { ...state, session: action.session }
    case 'signed_out':
      return { ...initialState }
    case 'restored':
      return { ...action.state, connection: state.connection, session: state.session, busy: {}, notices: [] }
    case 'connection':
      return { ...state, connection: action.state }
    case 'room_joined': {
      const { room, members, thread } = action.data
      const next = withRoom(state, room, (r) => ({ ...r, members, info: thread }))
      return { ...next, roomOrder: state.roomOrder.includes(room) ? state.roomOrder : [...state.roomOrder, room] }
    }
    case 'room_left': {
      const rooms = { ...state.rooms }
      delete rooms[action.room]
      const roomOrder = state.roomOrder.filter((r) => r !== action.room)
      return { ...state, rooms, roomOrder, currentRoom: state.currentRoom === action.room ? MAIN : state.currentRoom }
    }
    case 'room_selected':
      return { ...state, currentRoom: action.room }
    case 'presence':
      return withRoom(state, action.data.room, (r) => ({ ...r, members: action.data.members }))
    case 'typing':
      return withRoom(state, action.room, (r) => {
        const typing = { ...r.typing }
        if (action.until === null) delete typing[action.user]
        else typing[action.user] = action.until
        return { ...r, typing }
      })
    case 'new_message': {
      const m = messageFrom(action.data)
      // A message ends the author's typing.
      return withRoom(state, action.data.room, (r) => {
        const typing = { ...r.typing }
        delete typing[m.user]
        return { ...addMessage(r, m), typing }
      })
    }
    case 'own_message':
      return withRoom(state, action.room, (r) => ({
        ...r,
        messages: { ...r.messages, [`local:${action.clientId}`]: { id: `local:${action.clientId}`, seq: null, user: action.user, text: action.text, ts: new Date().toISOString(), role: 'user', clientId: action.clientId, pending: true } }
      }))
    case 'own_message_acked':
      return withRoom(state, action.room, (r) => {
        const local = r.messages[`local:${action.clientId}`]
        if (!local) return r
        const messages = { ...r.messages }
        delete messages[`local:${action.clientId}`]
        if (!messages[action.id]) messages[action.id] = { ...local, id: action.id, seq: action.seq, pending: false }
        return { ...r, messages }
      })
    case 'own_message_failed':
      return withRoom(state, action.room, (r) => {
        const local = r.messages[`local:${action.clientId}`]
        if (!local) return r
        return { ...r, messages: { ...r.messages, [local.id]: { ...local, pending: false, failed: action.error } } }
      })
    // A page that arrives after its room was left is dropped (it would bring the room back as a ghost).
    case 'keep_all':
      if (!state.rooms[action.room]) return state
      return withRoom(state, action.room, (r) => ({ ...r, keep: null }))
    case 'history':
      if (!state.rooms[action.room]) return state
      return withRoom(state, action.room, (r) => {
        // After a newest page (a join, a reload after a gap) the button asks for what lies before it, even where the
        // room holds older entries: anything between them is fetched again, and what is there already is kept once.
        let next: RoomState = { ...r, earlier: action.earlier, keep: action.older ? null : r.keep }
        for (const m of action.messages) {
          if (m.role === 'assistant') {
            if (!next.answers[m.id]?.text) {
              next = {
                ...next,
                answers: {
                  ...next.answers,
                  [m.id]: {
                    messageId: m.id, seq: next.answers[m.id]?.seq ?? m.seq, tokens: [], text: m.text,
                    ...(m.finishReason ? { finishReason: m.finishReason } : {}),
                    ...(m.model ? { model: m.model } : {}),
                    ...(m.usage ? { completionTokens: m.usage.completionTokens } : {})
                  }
                }
              }
            }
          } else {
            next = addMessage(next, messageFrom(m))
          }
        }
        return next
      })
    case 'llm_token': {
      const { room, messageId, token, index, seq } = action.data
      return withRoom(state, room, (r) => {
        const a = r.answers[messageId] ?? { messageId, seq, tokens: [], text: null }
        if (a.text !== null || a.tokens[index] !== undefined) return r
        const tokens = a.tokens.slice()
        tokens[index] = token
        return { ...r, answers: { ...r.answers, [messageId]: { ...a, tokens } } }
      })
    }
    case 'llm_complete': {
      const { room, messageId, text, finishReason, model, usage, seq } = action.data
      return withRoom(state, room, (r) => {
        const a = r.answers[messageId]
        return {
          ...r,
          answers: {
            ...r.answers,
            [messageId]: {
              messageId, seq: a?.seq ?? seq, tokens: [], text,
              ...(finishReason ? { finishReason } : {}),
              ...(model ? { model } : {}),
              ...(usage ? { completionTokens: usage.completionTokens } : {})
            }
          }
        }
      })
    }
    case 'thread_created': {
      const t = action.data.thread
      const known = state.threads[t.id]
      return setNode(state, { id: t.id, kind: t.kind, parent: t.parent, task: t.task, status: known?.status ?? t.status, children: known?.children ?? [], result: known?.result ?? null })
    }
    case 'thread_updated': {
      const d = action.data
      const known = state.threads[d.thread]
      if (!known) return state
      return setNode(state, {
        ...known,
        status: d.status,
        ...(d.children ? { children: [...new Set([...known.children, ...d.children])] } : {}),
        ...(d.result !== undefined ? { result: d.result } : {})
      })
    }
    case 'thread_closed': {
      const known = state.threads[action.data.thread]
      return known ? setNode(state, { ...known, status: action.data.status }) : state
    }
    case 'tree': {
      const nodes: ThreadNode[] = []
      flatten(action.tree, action.parent, nodes)
      let next = state
      for (const n of nodes) {
        const known = next.threads[n.id]
        next = setNode(next, known ? { ...n, children: [...new Set([...n.children, ...known.children])] } : n)
      }
      return next
    }
    case 'thread_messages': {
      const current = state.threadMessages[action.thread]
      return {
        ...state,
        threadMessages: {
          ...state.threadMessages,
          [action.thread]: {
            loading: action.loading,
            messages: action.messages ?? current?.messages ?? [],
            ...(action.error ? { error: action.error } : {})
          }
        }
      }
    }
    case 'response':
      return { ...state, response: action.response }
    case 'response_patch':
      return state.response?.id === action.id ? { ...state, response: { ...state.response, ...action.patch } } : state
    case 'notice':
      return { ...state, notices: [...state.notices.slice(-4), action.notice] }
    case 'notice_dismissed':
      return { ...state, notices: state.notices.filter((n) => n.id !== action.id) }
    case 'busy':
      return { ...state, busy: { ...state.busy, [action.key]: action.busy } }
    case 'collections':
      return { ...state, collections: action.names }
    case 'models':
      return { ...state, models: action.ids }
  }
}
