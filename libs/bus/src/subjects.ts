// The catalogue of Skein's NATS names: every subject, stream, bucket and durable consumer, in one place.

/** Thread lifecycle events and messages: `skein.thread.<id>.<event>`. */
export const THREADS_STREAM = 'SKEIN_THREADS'
/** Durable work (planning, steps, replies): `skein.work.<kind>`, a work queue. */
export const WORK_STREAM = 'SKEIN_WORK'
/** Thread records, changed only by compare-and-swap. */
export const THREADS_BUCKET = 'skein-threads'
/** The openai-service instances' shared pull consumer on the work queue. */
export const WORK_CONSUMER = 'thread-workers'

/** A NATS subject token: no dots, wildcards or spaces can be smuggled in through an id. */
export const SUBJECT_TOKEN = /^[A-Za-z0-9_-]{1,64}$/

export function assertToken (value: string, what = 'id'): string {
  if (!SUBJECT_TOKEN.test(value)) throw new Error(`invalid ${what} "${value.slice(0, 70)}": letters, digits, _ and - only, up to 64`)
  return value
}

/** Every event type a thread's log holds: `skein.thread.<id>.<type>`. */
export const THREAD_EVENT_TYPES = ['created', 'status', 'message', 'token', 'completed', 'failed', 'cancelled', 'closed'] as const

export const subjects = {
  threadEvent: (thread: string, event: string): string => `skein.thread.${assertToken(thread, 'thread id')}.${event}`,
  threadEvents: (thread: string): string => `skein.thread.${assertToken(thread, 'thread id')}.>`,
  /** Each of a thread's subjects, one per event type (for "last message on" look-ups). */
  threadEventSubjects: (thread: string): string[] => THREAD_EVENT_TYPES.map((type) => `skein.thread.${assertToken(thread, 'thread id')}.${type}`),
  allThreadEvents: 'skein.thread.>',
  /** Core NATS (not stored): every openai-service instance aborts model calls of these threads. */
  cancelThreads: 'skein.control.cancel',
  /** Request/reply: the chroma-service answers memory searches `{ query, scope?, id?, k? }` → `{ results }`. */
  memorySearch: 'skein.memory.search',
  /**
   * Request/reply to the openai-service instances (queue group `threads`): `skein.rpc.threads.<op>` with
   * `ThreadsRpcRequest` → `ThreadsRpcReply`. The funnel asks through these; so may any other service.
   */
  threadsRpc: (op: string): string => `skein.rpc.threads.${assertToken(op, 'operation')}`,
  allThreadsRpc: 'skein.rpc.threads.*',
  /** Volatile room traffic between funnels (core NATS, never stored): `skein.room.<room>.presence|typing`. */
  roomVolatile: (room: string, kind: 'presence' | 'typing'): string => `skein.room.${assertToken(room, 'room')}.${kind}`,
  allRoomVolatile: 'skein.room.*.*',
  /** A funnel that starts asks the others to announce their rooms' members at once. */
  presenceSync: 'skein.presence.sync',
  /** Scatter-gather: every funnel and openai-service instance answers with its own counts. */
  statsRequest: 'skein.stats.request',
  work: (kind: string): string => `skein.work.${kind}`,
  allWork: 'skein.work.>'
} as const
