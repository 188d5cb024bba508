import { MAIN_ROOM, type ServerEventName, type ThreadEventPayload, type ThreadRecord } from '@skein/schemas'
import { wireFrame, type WireFrame } from './wire.js'

/** A server frame for one room, serialised and framed once, and sent as it is to every member. */
export interface RoomFrame {
  room: string
  seq: number
  frame: WireFrame
  /** The socket that sent it (it got the ack instead). */
  exclude?: string
  /** With `exclude`: the message's id, by which that socket's post recognises it (see Hub.post). */
  messageId?: string
}

const LIFECYCLE = new Set(['created', 'status', 'completed', 'failed', 'cancelled', 'closed'])

/** The thread id and event type of a subject `skein.thread.<id>.<type>`. */
export function parseSubject (subject: string): { thread: string, type: string } | null {
  const parts = subject.split('.')
  return parts.length === 4 && parts[0] === 'skein' && parts[1] === 'thread' ? { thread: parts[2]!, type: parts[3]! } : null
}

export const isLifecycle = (type: string): boolean => LIFECYCLE.has(type)

/**
 * The rooms an event of a thread is shown in: its own; and for a lifecycle event, the main room, or for a
 * private thread the private room at the root of its tree (its events never reach the main room).
 */
export function roomsFor (payload: ThreadEventPayload): string[] {
  const { thread, type } = payload
  if (!LIFECYCLE.has(type) || thread === MAIN_ROOM) return [thread]
  const d = payload.data as { private?: unknown, root?: unknown, thread?: { private?: unknown, root?: unknown } }
  if (d.private !== true && d.thread?.private !== true) return [thread, MAIN_ROOM]
  const root = typeof d.root === 'string' ? d.root : d.thread?.root
  return typeof root === 'string' && root !== thread ? [thread, root] : [thread]
}

const frameOf = (event: ServerEventName, data: Record<string, unknown>): WireFrame => wireFrame(JSON.stringify({ event, data }))

type Data = Record<string, unknown>
const str = (v: unknown): string => (typeof v === 'string' ? v : '')

/**
 * A thread event as the frames of the given rooms (see roomsFor): messages become `new_message` (people,
 * reports, notes) or `llm_complete` (the assistant's answers), tokens `llm_token`, lifecycle events
 * `thread_created|updated|closed`. The seq is the event's.
 */
export function framesFor (seq: number, payload: ThreadEventPayload, rooms: string[]): RoomFrame[] {
  const d = payload.data as Data
  const build = (room: string): { event: ServerEventName, data: Data, exclude?: string, messageId?: string } | null => {
    switch (payload.type) {
      case 'message': {
        if (d.role === 'assistant') {
          return {
            event: 'llm_complete',
            data: {
              room, seq, messageId: str(d.id), text: str(d.text), usage: (d.usage as Data | undefined) ?? null,
              ...(d.finishReason ? { finishReason: d.finishReason } : {}), ...(d.model ? { model: d.model } : {})
            }
          }
        }
        return {
          event: 'new_message',
          data: {
            room, seq, id: str(d.id), user: str(d.author), text: str(d.text), ts: str(d.ts) || payload.ts,
            ...(d.role !== 'user' ? { role: d.role } : {}), ...(d.from ? { from: d.from } : {}), ...(d.clientId ? { clientId: d.clientId } : {})
          },
          ...(typeof d.session === 'string' ? { exclude: d.session, messageId: str(d.id) } : {})
        }
      }
      case 'token':
        return { event: 'llm_token', data: { room, seq, messageId: str(d.messageId), token: str(d.token), index: typeof d.index === 'number' ? d.index : 0 } }
      case 'created': {
        const t = d.thread as ThreadRecord | undefined
        if (!t) return null
        return { event: 'thread_created', data: { room, seq, thread: { id: t.id, kind: t.kind, parent: t.parent, root: t.root, task: t.task, status: t.status, owner: t.owner } } }
      }
      case 'closed':
        return { event: 'thread_closed', data: { room, seq, thread: payload.thread, status: d.status } }
      case 'status':
      case 'completed':
      case 'failed':
      case 'cancelled':
        return {
          event: 'thread_updated',
          data: {
            room, seq, thread: payload.thread, status: d.status ?? payload.type,
            ...(Array.isArray(d.children) ? { children: d.children } : {}),
            ...('result' in d ? { result: d.result } : {}),
            ...('error' in d ? { error: d.error } : {})
          }
        }
      default:
        return null
    }
  }
  const out: RoomFrame[] = []
  for (const room of rooms) {
    const built = build(room)
    if (built) out.push({ room, seq, frame: frameOf(built.event, built.data), ...(built.exclude ? { exclude: built.exclude, messageId: built.messageId ?? '' } : {}) })
  }
  return out
}
