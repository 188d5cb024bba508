import type { ClientAckData, ClientEventName, ServerEventData } from '@skein/schemas'

/** The `data` of the `ack` answering each client event (the protocol's ClientAcks). */
export type AckData = { [E in ClientEventName]: ClientAckData<E> }

/** `new_message` as the funnel sends it: with `clientId`, the id the sender gave its `message` frame. */
export type NewMessageData = ServerEventData<'new_message'> & { clientId?: string }
