import type { ClientEventName, RealtimeStats, ServerEventData, ThreadRecord, ThreadStatus } from '@skein/schemas'

/**
 * The `data` of the `ack` answering each client event. The protocol's schema types acks as a plain record
 * (`Ack`); these are the shapes the funnel's handlers send (services/funnel/src/realtime/handlers.ts).
 */
export interface AckData {
  join_room: { room: string, lastSeq: number }
  leave_room: { room: string }
  create_room: { room: string, created: boolean, thread: ThreadRecord }
  message: { room: string, seq: number, id: string }
  typing: { room: string }
  llm_request: { room: string, seq: number, id: string, messageId: string }
  create_task: { thread: string, room: string, status: ThreadStatus }
  cancel: { cancelled: string[], stopped: boolean }
  get_stats: RealtimeStats
}

// Every client event has its ack shape, and nothing else does.
const covered: [Exclude<ClientEventName, keyof AckData>, Exclude<keyof AckData, ClientEventName>] extends [never, never] ? true : false = true
void covered

/** `new_message` as the funnel sends it: with `clientId`, the id the sender gave its `message` frame. */
export type NewMessageData = ServerEventData<'new_message'> & { clientId?: string }
