import { Type, type Static, type TSchema } from 'typebox'
import { ThreadKind, ThreadRecord, ThreadStatus } from './threads.js'

// The funnel's WebSocket protocol at `/ws`. Frames are JSON text: `{ "event", "data", "id"? }`. A client frame
// that carries an `id` is answered with `ack` (same id) or `error` (same id). Sequenced events (messages,
// tokens, completions, thread events) carry `seq`, the JetStream sequence: strictly increasing within a room.
// Typing and presence are volatile and carry none. A room is the live view of a thread: room X follows thread X.

/** A room (= a thread id): also a NATS subject token, so no dots, wildcards or spaces. */
export const RoomId = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', examples: ['main', 'c-3f0e1c9a5b1d'] })
export const MAIN_ROOM = 'main'

const Text = Type.String({ minLength: 1, maxLength: 16_000 })
const Model = Type.String({ minLength: 1, maxLength: 128, pattern: '^[^\\s]+$' })
const Seq = Type.Integer({ minimum: 1 })

// ── client → server ───────────────────────────────────────────────────────────────────────────────────────

export const JoinRoom = Type.Object({
  room: RoomId,
  afterSeq: Type.Optional(Type.Integer({ minimum: 0, description: 'Replay every sequenced event after this seq, then follow live' }))
}, { additionalProperties: false })
export const LeaveRoom = Type.Object({ room: RoomId }, { additionalProperties: false })
export const CreateRoom = Type.Object({
  room: Type.Optional(RoomId),
  model: Type.Optional(Model),
  private: Type.Optional(Type.Boolean({ description: 'Only its members may join (the creator and `members`)' })),
  members: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' }), { maxItems: 256 }))
}, { additionalProperties: false })
export const SendMessage = Type.Object({ room: RoomId, text: Text }, { additionalProperties: false })
export const Typing = Type.Object({ room: RoomId, typing: Type.Boolean() }, { additionalProperties: false })
export const LlmRequest = Type.Object({ room: RoomId, message: Text, model: Type.Optional(Model) }, { additionalProperties: false })
export const CreateTask = Type.Object({
  task: Type.String({ minLength: 1, maxLength: 50_000 }),
  room: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'The parent thread (default: main)' }))
}, { additionalProperties: false })
export const Cancel = Type.Object({
  thread: RoomId
}, { additionalProperties: false, description: 'A task or step: cancels it and its descendants. A conversation (main included): stops the answer under way.' })
export const GetStats = Type.Object({}, { additionalProperties: false })
/** A round trip that proves the connection is alive (browsers cannot see WebSocket pings). */
export const Ping = Type.Object({}, { additionalProperties: false })

/** Every event a client may send, with the schema of its `data`. */
export const ClientEvents = {
  join_room: JoinRoom,
  leave_room: LeaveRoom,
  create_room: CreateRoom,
  message: SendMessage,
  typing: Typing,
  llm_request: LlmRequest,
  create_task: CreateTask,
  cancel: Cancel,
  get_stats: GetStats,
  ping: Ping
} as const
export type ClientEventName = keyof typeof ClientEvents
export type ClientEventData<E extends ClientEventName> = Static<(typeof ClientEvents)[E]>

/** The envelope of a client frame (its `data` is checked against ClientEvents[event]). */
export const ClientFrame = Type.Object({
  event: Type.String({ minLength: 1, maxLength: 64 }),
  data: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  id: Type.Optional(Type.String({ minLength: 1, maxLength: 128 }))
}, { additionalProperties: false })
export type ClientFrame = Static<typeof ClientFrame>

// ── server → client ───────────────────────────────────────────────────────────────────────────────────────

export const StatusEvent = Type.Object({
  user: Type.String(),
  sessionId: Type.String(),
  funnel: Type.String({ description: 'The funnel instance serving this socket' }),
  requestId: Type.String(),
  expiresAt: Type.String({ format: 'date-time', description: 'When the token expires; the socket closes then (code 4001)' })
})
export const RoomJoined = Type.Object({
  room: RoomId,
  members: Type.Array(Type.String(), { description: 'Who is in the room, on every funnel, sorted (the first 100)' }),
  memberCount: Type.Integer({ minimum: 0 }),
  lastSeq: Type.Integer({ minimum: 0, description: 'The room log\'s position: resume with afterSeq set to the last seq you saw' }),
  thread: Type.Object({ kind: ThreadKind, status: ThreadStatus, task: Type.String(), private: Type.Boolean() })
})
export const RoomLeft = Type.Object({ room: RoomId })
export const NewMessage = Type.Object({
  room: RoomId,
  seq: Seq,
  id: Type.String(),
  user: Type.String(),
  text: Type.String(),
  ts: Type.String({ format: 'date-time' }),
  role: Type.Optional(Type.String({ description: 'user (default), system, or report (a child thread reporting)' })),
  from: Type.Optional(Type.String({ description: 'A report names the thread it comes from' })),
  clientId: Type.Optional(Type.String({ description: 'The id the sender gave its message or llm_request frame: a client recognises its own message on replay' }))
})
export const UserTyping = Type.Object({ room: RoomId, user: Type.String(), typing: Type.Boolean() })
/** Sent when a room's members change (at most one frame per room every 250 ms). */
export const Presence = Type.Object({
  room: RoomId,
  members: Type.Array(Type.String(), { description: 'Who is in the room, on every funnel, sorted (the first 100)' }),
  memberCount: Type.Integer({ minimum: 0 })
})
export const LlmToken = Type.Object({
  room: RoomId,
  seq: Seq,
  messageId: Type.String(),
  token: Type.String(),
  index: Type.Integer({ minimum: 0, description: 'The token\'s place in its message' })
})
export const LlmComplete = Type.Object({
  room: RoomId,
  seq: Seq,
  messageId: Type.String(),
  text: Type.String({ description: 'The whole answer: the tokens joined' }),
  usage: Type.Union([Type.Object({ promptTokens: Type.Integer(), completionTokens: Type.Integer() }), Type.Null()]),
  finishReason: Type.Optional(Type.String({ description: 'stop, length, stopped (cancelled by a user), interrupted, error' })),
  model: Type.Optional(Type.String())
})
export const ThreadSummary = Type.Object({
  id: Type.String(),
  kind: ThreadKind,
  parent: Type.Union([Type.String(), Type.Null()]),
  root: Type.String(),
  task: Type.String(),
  status: ThreadStatus,
  owner: Type.String()
})
export const ThreadCreated = Type.Object({ room: RoomId, seq: Seq, thread: ThreadSummary })
export const ThreadUpdated = Type.Object({
  room: RoomId,
  seq: Seq,
  thread: Type.String(),
  status: ThreadStatus,
  children: Type.Optional(Type.Array(Type.String())),
  result: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  error: Type.Optional(Type.Union([Type.Object({ code: Type.String(), message: Type.String() }), Type.Null()]))
})
export const ThreadClosed = Type.Object({ room: RoomId, seq: Seq, thread: Type.String(), status: ThreadStatus })
export const RealtimeStats = Type.Object({
  users: Type.Integer({ minimum: 0, description: 'Distinct users connected, cluster-wide' }),
  sockets: Type.Integer({ minimum: 0 }),
  rooms: Type.Integer({ minimum: 0, description: 'Rooms with at least one member' }),
  funnels: Type.Integer({ minimum: 0, description: 'Funnel instances that answered' }),
  generations: Type.Record(Type.String(), Type.Integer({ minimum: 0 }), { description: 'Answers being generated now, per model' })
}, { title: 'RealtimeStats' })
export type RealtimeStats = Static<typeof RealtimeStats>
export const Ack = Type.Record(Type.String(), Type.Unknown(), { description: 'The data of an ack: see ClientAcks for each event' })
export const ErrorEvent = Type.Object({
  code: Type.String({ examples: ['FUNNEL_VALIDATION', 'resume_gap'] }),
  message: Type.String(),
  oldestSeq: Type.Optional(Type.Integer({ description: 'With resume_gap: the oldest seq still kept' }))
})

/** The `data` of the `ack` that answers each client event (sent when the frame carried an `id`). */
export const ClientAcks = {
  join_room: Type.Object({ room: RoomId, lastSeq: Type.Integer({ minimum: 0 }) }),
  leave_room: Type.Object({ room: RoomId }),
  create_room: Type.Object({ room: RoomId, created: Type.Boolean(), thread: ThreadRecord }),
  message: Type.Object({ room: RoomId, seq: Seq, id: Type.String() }),
  typing: Type.Object({ room: RoomId }),
  llm_request: Type.Object({ room: RoomId, seq: Seq, id: Type.String(), messageId: Type.String({ description: 'The answer\'s llm_token and llm_complete carry it' }) }),
  create_task: Type.Object({ thread: Type.String(), room: RoomId, status: ThreadStatus }),
  cancel: Type.Object({ cancelled: Type.Array(Type.String()), stopped: Type.Boolean() }),
  get_stats: RealtimeStats,
  ping: Type.Object({ ts: Type.String({ format: 'date-time' }) })
} as const satisfies Record<ClientEventName, TSchema>
export type ClientAckData<E extends ClientEventName> = Static<(typeof ClientAcks)[E]>

/** Every event the server sends, with the schema of its `data`. */
export const ServerEvents = {
  status: StatusEvent,
  room_joined: RoomJoined,
  room_left: RoomLeft,
  new_message: NewMessage,
  user_typing: UserTyping,
  presence: Presence,
  llm_token: LlmToken,
  llm_complete: LlmComplete,
  thread_created: ThreadCreated,
  thread_updated: ThreadUpdated,
  thread_closed: ThreadClosed,
  stats: RealtimeStats,
  ack: Ack,
  error: ErrorEvent
} as const satisfies Record<string, TSchema>
export type ServerEventName = keyof typeof ServerEvents
export type ServerEventData<E extends ServerEventName> = Static<(typeof ServerEvents)[E]>
export interface ServerFrame<E extends ServerEventName = ServerEventName> { event: E, data: ServerEventData<E>, id?: string }

/** The sequenced server events: the ones a client resumes with `afterSeq`. */
export const SEQUENCED_EVENTS = ['new_message', 'llm_token', 'llm_complete', 'thread_created', 'thread_updated', 'thread_closed'] as const

/** Close codes the funnel uses, beside the standard ones (1008 policy, 1009 too big, 1011 error). */
export const CloseCodes = {
  /** The token expired while connected: get a new one and reconnect (then rejoin with afterSeq). */
  TOKEN_EXPIRED: 4001,
  /** The client did not read fast enough: reconnect and rejoin with afterSeq, nothing is lost. */
  SLOW_CONSUMER: 4008,
  /** Too many frames too fast, again and again. */
  RATE_LIMITED: 4029,
  /** The funnel is shutting down: reconnect (to another funnel) and rejoin with afterSeq. */
  GOING_AWAY: 1001
} as const
