export { SkeinClient, type SkeinClientOptions, type TokenAnswer } from './skein-client.js'
export {
  RealtimeClient,
  TRANSIENT_JOIN_CODES,
  type ConnectionState,
  type ErrorEventData,
  type EventData,
  type EventName,
  type RealtimeOptions,
  type ReconnectOptions,
  type ResumeGap,
  type WebSocketConstructor,
  type WebSocketLike
} from './realtime-client.js'
export { HttpClient, type HttpOptions, type RequestOptions, type TokenSource } from './http-client.js'
export { RoomCursors, isSequenced } from './room-cursors.js'
export type { AckData, NewMessageData } from './acks.js'
export {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  AuthenticationError,
  BadRequestError,
  ConflictError,
  ConnectionLostError,
  InternalServerError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  RealtimeError,
  SkeinError,
  UnprocessableEntityError
} from './errors.js'
export { decodeFrame, encodeFrame } from './frames.js'
export type { ClientEventData, ClientEventName, ServerEventData, ServerEventName, ServerFrame } from '@skein/schemas'
