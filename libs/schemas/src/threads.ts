import { Type, type Static } from 'typebox'

// Threads: every conversation is a thread with a task, an assistant (one template extended by the task) and
// messages. The record lives in the JetStream KV bucket `skein-threads`; messages and lifecycle events in the
// stream `SKEIN_THREADS` on `skein.thread.<id>.<event>`.

export const ThreadKind = Type.Union([Type.Literal('main'), Type.Literal('conversation'), Type.Literal('task'), Type.Literal('step')])
export type ThreadKind = Static<typeof ThreadKind>

export const ThreadStatus = Type.Union([
  Type.Literal('open'), // accepts messages (the main thread, conversations)
  Type.Literal('planning'),
  Type.Literal('running'),
  Type.Literal('waiting'), // its steps are running
  Type.Literal('completed'),
  Type.Literal('failed'),
  Type.Literal('cancelled')
])
export type ThreadStatus = Static<typeof ThreadStatus>

export const TERMINAL_STATUSES: readonly ThreadStatus[] = ['completed', 'failed', 'cancelled']

export const ThreadUsage = Type.Object({
  promptTokens: Type.Integer({ minimum: 0 }),
  completionTokens: Type.Integer({ minimum: 0 })
})
export type ThreadUsage = Static<typeof ThreadUsage>

export const ThreadRecord = Type.Object({
  id: Type.String({ examples: ['main', 't-3f0e1c9a5b1d'] }),
  kind: ThreadKind,
  parent: Type.Union([Type.String(), Type.Null()]),
  root: Type.String({ description: 'The task thread at the top of this tree (itself for a task, "main" for main)' }),
  depth: Type.Integer({ minimum: 0 }),
  task: Type.String({ examples: ['Compare three sorting algorithms and recommend one'] }),
  assistant: Type.Object({ instructions: Type.String(), model: Type.String() }),
  status: ThreadStatus,
  children: Type.Array(Type.String()),
  /** For a step: the sibling steps whose results it needs. */
  dependsOn: Type.Array(Type.String()),
  result: Type.Union([Type.String(), Type.Null()]),
  error: Type.Union([Type.Object({ code: Type.String(), message: Type.String() }), Type.Null()]),
  usage: ThreadUsage,
  owner: Type.String({ description: 'The user who started it' }),
  private: Type.Optional(Type.Boolean({ description: 'A private room: only the owner and members may read or join it' })),
  members: Type.Optional(Type.Array(Type.String(), { description: 'Who may join a private room, besides its owner' })),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
  closedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()])
}, { title: 'ThreadRecord' })
export type ThreadRecord = Static<typeof ThreadRecord>

export const MessageRole = Type.Union([Type.Literal('user'), Type.Literal('assistant'), Type.Literal('system'), Type.Literal('report')])
export type MessageRole = Static<typeof MessageRole>

export const ThreadMessage = Type.Object({
  id: Type.String(),
  thread: Type.String(),
  seq: Type.Integer({ minimum: 1, description: 'Its place in the thread\'s event log (the JetStream sequence): strictly increasing within a thread' }),
  role: MessageRole,
  author: Type.String({ description: 'A user name, or "assistant"' }),
  text: Type.String(),
  ts: Type.String({ format: 'date-time' }),
  /** A report or final answer names the thread it comes from. */
  from: Type.Optional(Type.String()),
  /** An assistant's reply: the user message it answers, the model, why it ended, the tokens it used. */
  inReplyTo: Type.Optional(Type.String()),
  model: Type.Optional(Type.String()),
  finishReason: Type.Optional(Type.String({ description: 'stop, length, stopped (a user stopped it), error, interrupted (its instance went away mid-answer; another answers)' })),
  /** A report: how the thread it comes from ended. */
  status: Type.Optional(Type.Union([Type.Literal('completed'), Type.Literal('failed')], { description: 'A report: how the thread it comes from ended' })),
  usage: Type.Optional(ThreadUsage)
}, { title: 'ThreadMessage' })
export type ThreadMessage = Static<typeof ThreadMessage>

/** `GET /threads/:id/messages`: all after `after`, or one page of the newest before `before` with `limit`. */
export const ThreadMessagesQuery = Type.Object({
  after: Type.Optional(Type.Integer({ minimum: 0, default: 0, description: 'Only messages with a higher seq', examples: [39] })),
  before: Type.Optional(Type.Integer({ minimum: 1, description: 'Only messages with a lower seq (the first seq of the page shown, to load the one before it)', examples: [97] })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'At most this many, the newest of the range; `more` says whether older ones remain. Without it, all of the range', examples: [200] }))
}, { title: 'ThreadMessagesQuery' })
export type ThreadMessagesQuery = Static<typeof ThreadMessagesQuery>

export const ThreadMessagesPage = Type.Object({
  messages: Type.Array(ThreadMessage, { description: 'In seq order' }),
  more: Type.Boolean({ description: 'Older messages in the range were left out by `limit`: ask again with `before` set to the first seq here' })
}, { title: 'ThreadMessagesPage' })
export type ThreadMessagesPage = Static<typeof ThreadMessagesPage>

export const ThreadEventType = Type.Union([
  Type.Literal('created'), Type.Literal('status'), Type.Literal('message'), Type.Literal('token'),
  Type.Literal('completed'), Type.Literal('failed'), Type.Literal('cancelled'), Type.Literal('closed')
])
export type ThreadEventType = Static<typeof ThreadEventType>

/** What is published on `skein.thread.<id>.<type>`; `seq` is the JetStream sequence, known to readers. */
export const ThreadEventPayload = Type.Object({
  type: ThreadEventType,
  thread: Type.String(),
  ts: Type.String({ format: 'date-time' }),
  data: Type.Record(Type.String(), Type.Unknown())
}, { title: 'ThreadEventPayload' })
export type ThreadEventPayload = Static<typeof ThreadEventPayload>

/** An event as readers get it: the payload and its sequence number. */
export const ThreadEvent = Type.Object({
  seq: Type.Integer({ minimum: 1 }),
  ...ThreadEventPayload.properties
}, { title: 'ThreadEvent' })
export type ThreadEvent = Static<typeof ThreadEvent>

/** A unit of durable work on `skein.work.<kind>`, consumed by any openai-service instance. */
export const WorkItem = Type.Object({
  kind: Type.Union([Type.Literal('plan'), Type.Literal('step'), Type.Literal('advance'), Type.Literal('finalize'), Type.Literal('reply')]),
  thread: Type.String(),
  /** For a reply: the user message answered. */
  message: Type.Optional(Type.String()),
  /** For a reply: the user message's seq (its answer reads the turns before it, not the whole thread). */
  seq: Type.Optional(Type.Integer({ minimum: 1 })),
  /** For a reply: the model asked for (default: the thread's assistant's). */
  model: Type.Optional(Type.String()),
  requestId: Type.Optional(Type.String())
}, { title: 'WorkItem' })
export type WorkItem = Static<typeof WorkItem>

/** A thread and its descendants, for the UI (children are ThreadTree nodes too). */
export const ThreadTree = Type.Object({
  id: Type.String(),
  kind: ThreadKind,
  task: Type.String(),
  status: ThreadStatus,
  result: Type.Union([Type.String(), Type.Null()]),
  children: Type.Array(Type.Unknown({ description: 'ThreadTree' }))
}, { title: 'ThreadTree' })
export interface ThreadTree { id: string, kind: ThreadKind, task: string, status: ThreadStatus, result: string | null, children: ThreadTree[] }

export const CreateTaskBody = Type.Object({
  task: Type.String({ minLength: 1, maxLength: 50_000, examples: ['1. Research cats\n2. Research dogs\n3. Research birds\n4. Compare the results of the three'] }),
  parent: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'Default: the main thread' })),
  model: Type.Optional(Type.String({ minLength: 1 }))
}, { additionalProperties: false, title: 'CreateTaskBody' })
export type CreateTaskBody = Static<typeof CreateTaskBody>

export const PostMessageBody = Type.Object({
  text: Type.String({ minLength: 1, maxLength: 16000, examples: ['What did the last task conclude?'] })
}, { additionalProperties: false, title: 'PostMessageBody' })
export type PostMessageBody = Static<typeof PostMessageBody>

/** The operations the openai-service answers over NATS request/reply on `skein.rpc.threads.<op>`. */
export const ThreadsRpcOp = Type.Union([
  Type.Literal('get'), // { thread } → ThreadRecord (only if the user may read it)
  Type.Literal('create_room'), // { room?, model?, private?, members? } → ThreadRecord
  Type.Literal('llm_request'), // { thread, text, model?, session? } → { message: ThreadMessage, replyId }
  Type.Literal('post'), // { thread, text, session? } → ThreadMessage (a user message, no assistant reply)
  Type.Literal('create_task'), // { task, parent? , model? } → ThreadRecord
  Type.Literal('cancel') // { thread } → { cancelled: string[], stopped: boolean }
])
export type ThreadsRpcOp = Static<typeof ThreadsRpcOp>

/** Every request names the user it is made for (authenticated by the caller) and may carry the request id. */
export const ThreadsRpcRequest = Type.Object({
  user: Type.String(),
  requestId: Type.Optional(Type.String()),
  data: Type.Record(Type.String(), Type.Unknown())
}, { title: 'ThreadsRpcRequest' })
export type ThreadsRpcRequest = Static<typeof ThreadsRpcRequest>

export const ThreadsRpcReply = Type.Union([
  Type.Object({ ok: Type.Literal(true), data: Type.Unknown() }),
  Type.Object({ ok: Type.Literal(false), error: Type.Object({ code: Type.String(), message: Type.String(), status: Type.Integer() }) })
], { title: 'ThreadsRpcReply' })
export type ThreadsRpcReply = Static<typeof ThreadsRpcReply>
