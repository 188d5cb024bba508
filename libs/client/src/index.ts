export { decodeFrame, encodeFrame } from './frames.js'
export type { ClientEventData, ClientEventName, ServerEventData, ServerEventName, ServerFrame } from '@skein/schemas'
