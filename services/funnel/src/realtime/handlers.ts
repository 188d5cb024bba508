import type { FastifyBaseLogger } from 'fastify'
import { CloseCodes, MAIN_ROOM, type ClientAckData, type ClientEventData, type ClientEventName, type ThreadRecord, type ThreadStatus } from '@skein/schemas'
import { WsError } from './errors.js'
import { parseFrame, requestIdOf } from './frames.js'
import { frame, type RealtimeHub } from './hub.js'
import type { Session } from './session.js'

/** A handler answers with its ack's data (sent when the frame had an id), or undefined when it sent it itself. */
type Handler<E extends ClientEventName> = (hub: RealtimeHub, s: Session, data: ClientEventData<E>, id: string | undefined) => Promise<ClientAckData<E> | undefined>

/** What each client event does; the answer (if any) is the ack's data. */
const handlers: { [E in ClientEventName]: Handler<E> } = {
  // room_joined first (members, the log's position), then every event after afterSeq, then the ack: an ack
  // means the socket is caught up and live. A replay that cannot finish is an error instead, and the socket
  // leaves the room (room_left): a room left half-replayed would hold its live events back forever.
  async join_room (hub, s, d, id) {
    const joined = await hub.join(s, d.room, d.afterSeq, id ?? s.requestId)
    s.send(frame('room_joined', joined))
    try {
      await hub.catchUp(s, d.room)
    } catch (err) {
      hub.leave(s, d.room)
      s.send(frame('room_left', { room: d.room }))
      throw err
    }
    return { room: d.room, lastSeq: joined.lastSeq }
  },
  async leave_room (hub, s, d) {
    if (!hub.leave(s, d.room)) throw new WsError('FUNNEL_NOT_IN_ROOM', `not in room "${d.room}"`)
    s.send(frame('room_left', { room: d.room }))
    return { room: d.room }
  },
  async create_room (hub, s, d) {
    const { thread, created } = await hub.request<{ thread: ThreadRecord, created: boolean }>('create_room', s.user, d, s.requestId)
    return { room: thread.id, created, thread }
  },
  async message (hub, s, d, id) {
    return await hub.post(s, d.room, d.text, id)
  },
  async typing (hub, s, d) {
    hub.typing(s, d.room, d.typing)
    return { room: d.room }
  },
  async llm_request (hub, s, d, id) {
    hub.mustBeIn(s, d.room)
    const { message, replyId } = await hub.request<{ message: { id: string, seq: number }, replyId: string }>('llm_request', s.user, {
      thread: d.room, text: d.message, session: s.id, ...(d.model ? { model: d.model } : {}), ...(id ? { clientId: id } : {})
    }, s.requestId)
    return { room: d.room, seq: message.seq, id: message.id, messageId: replyId }
  },
  async create_task (hub, s, d) {
    const thread = await hub.request<ThreadRecord>('create_task', s.user, { task: d.task, parent: d.room ?? MAIN_ROOM }, s.requestId)
    return { thread: thread.id, room: thread.id, status: thread.status as ThreadStatus }
  },
  async cancel (hub, s, d) {
    return await hub.request<{ cancelled: string[], stopped: boolean }>('cancel', s.user, { thread: d.thread }, s.requestId)
  },
  async get_stats (hub, s, _d, id) {
    const stats = await hub.stats()
    if (!id) s.send(frame('stats', stats))
    return stats
  },
  async ping () {
    return { ts: new Date().toISOString() }
  }
}

/**
 * One frame from a client: within the socket's rate, parsed and validated, then handled; a frame with an `id`
 * gets its `ack` or `error`. Refusals name the problem and keep the connection open; a client that keeps
 * flooding after being told is closed (4029).
 */
export async function onFrame (hub: RealtimeHub, s: Session, raw: Buffer | ArrayBuffer | Buffer[], isBinary: boolean, log: FastifyBaseLogger): Promise<void> {
  const text = (): string => Array.isArray(raw) ? Buffer.concat(raw).toString('utf8') : Buffer.from(raw as ArrayBuffer).toString('utf8')
  if (!s.take()) {
    if (s.flooding) {
      s.close(CloseCodes.RATE_LIMITED, 'rate limit exceeded again and again')
      return
    }
    // A request is answered, so that its sender knows it was not done (a message was not stored) instead of
    // waiting for an ack that never comes; other frames are told once a second.
    const id = isBinary ? undefined : requestIdOf(text())
    if (id || s.shouldTell()) s.send(frame('error', { code: 'FUNNEL_RATE_LIMITED', message: 'too many frames: slow down; frames over the rate (WS_RATE_PER_S) are dropped, not done: send this one again later' }, id))
    return
  }
  if (isBinary) {
    s.send(frame('error', { code: 'FUNNEL_BAD_FRAME', message: 'frames are JSON text, not binary' }))
    return
  }
  const parsed = parseFrame(text())
  if (!parsed.ok) {
    s.send(frame('error', { code: parsed.code, message: parsed.message }, parsed.id))
    return
  }
  const { event, data, id } = parsed
  try {
    const answer = await (handlers[event] as Handler<typeof event>)(hub, s, data as never, id)
    if (id && answer) s.send(frame('ack', answer, id))
  } catch (err) {
    if (err instanceof WsError) {
      s.send(frame('error', { code: err.code, message: err.message, ...err.extra }, id))
      return
    }
    log.error({ err, event, session: s.id, reqId: s.requestId }, 'a WebSocket request failed')
    s.send(frame('error', { code: 'FUNNEL_INTERNAL', message: `internal error; quote session ${s.id} when reporting it` }, id))
  }
}
