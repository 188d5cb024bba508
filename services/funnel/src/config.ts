import { Type, type Static } from 'typebox'
import { AuthConfig, BaseConfig } from '@skein/kit'

export const FunnelConfig = Type.Object({
  ...BaseConfig.properties,
  ...AuthConfig.properties,
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 5000, description: 'Port to listen on' }),
  OPENAI_SERVICE_URL: Type.String({ pattern: '^https?://', default: 'http://127.0.0.1:8001', description: 'Where everything but /api/* and /ws goes' }),
  CHROMA_SERVICE_URL: Type.String({ pattern: '^https?://', default: 'http://127.0.0.1:8002', description: 'Where /api/* goes' }),
  UPSTREAM_CONNECT_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 2_000, description: 'Time allowed to connect to an upstream service' }),
  UPSTREAM_HEADERS_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 300_000, description: 'Time allowed for an upstream to start answering (504 after it)' }),
  CORS_ORIGINS: Type.String({ default: 'http://127.0.0.1:3000,http://localhost:3000', description: 'Origins allowed to call the funnel from a browser (HTTP and /ws), comma separated' }),
  UPSTREAM_IDLE_TIMEOUT_MS: Type.Integer({ minimum: 0, default: 300_000, description: 'Longest silence inside a streamed upstream body (0: none)' }),
  WS_MAX_PAYLOAD_BYTES: Type.Integer({ minimum: 1024, default: 65_536, description: 'Largest WebSocket frame a client may send (the socket closes with 1009 above it)' }),
  WS_MAX_BUFFERED_BYTES: Type.Integer({ minimum: 65_536, default: 4_194_304, description: 'Bytes waiting to be sent to one socket before it counts as a slow consumer and is closed (4008); it resumes losslessly' }),
  WS_CLOSE_GRACE_MS: Type.Integer({ minimum: 100, default: 2_000, description: 'Time a socket the funnel closes (slow consumer, expired token, flood) has to read its close frame before it is cut (1006)' }),
  WS_RATE_PER_S: Type.Number({ exclusiveMinimum: 0, default: 20, description: 'Frames one socket may send per second, sustained' }),
  WS_RATE_BURST: Type.Integer({ minimum: 1, default: 60, description: 'Frames one socket may send in a burst above the sustained rate' }),
  WS_HEARTBEAT_MS: Type.Integer({ minimum: 100, default: 30_000, description: 'A ping this often; a socket that missed the last one is closed' }),
  WS_MAX_ROOMS_PER_SOCKET: Type.Integer({ minimum: 1, default: 64, description: 'Rooms one socket may be in at once' }),
  WS_REQUEST_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 10_000, description: 'Time allowed to the openai-service to answer a room, task or cancel request over NATS, and to NATS to store a message (tried again meanwhile)' }),
  WS_PRESENCE_INTERVAL_MS: Type.Integer({ minimum: 500, default: 10_000, description: 'Funnels re-announce their rooms\' members this often; a funnel silent for 3 intervals is forgotten' }),
  WS_STATS_WAIT_MS: Type.Integer({ minimum: 20, default: 250, description: 'How long get_stats and /health wait for the other instances to answer' }),
  RATE_LIMIT_PER_MINUTE: Type.Integer({ minimum: 1, default: 600, description: 'HTTP requests (WebSocket handshakes included) one user may make per minute, counted by the user of a valid token; /health is not counted' }),
  RATE_LIMIT_ANON_PER_MINUTE: Type.Integer({ minimum: 1, default: 120, description: 'HTTP requests per minute from one address without a valid token (one IPv6 /64 counts as one address)' }),
  WS_MAX_SOCKETS_PER_USER: Type.Integer({ minimum: 1, default: 32, description: 'WebSockets one user may hold open on this funnel at once; the next handshake is refused with 429, before the upgrade' }),
  WS_MAX_SOCKETS_PER_ADDRESS: Type.Integer({ minimum: 1, default: 256, description: 'WebSockets one address may hold open on this funnel at once; the next handshake is refused with 429, before the upgrade' }),
  HTTP_MAX_HEADER_BYTES: Type.Integer({ minimum: 1024, maximum: 1_048_576, default: 16_384, description: 'Largest request line plus headers (the URL and its query string included); above it the answer is 431' })
})
export type FunnelConfig = Static<typeof FunnelConfig>

declare module '@skein/kit' {
  interface ServiceConfig extends FunnelConfig {}
}
