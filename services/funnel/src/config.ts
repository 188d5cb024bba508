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
  UPSTREAM_IDLE_TIMEOUT_MS: Type.Integer({ minimum: 0, default: 300_000, description: 'Longest silence inside a streamed upstream body (0: none)' })
})
export type FunnelConfig = Static<typeof FunnelConfig>

declare module '@skein/kit' {
  interface ServiceConfig extends FunnelConfig {}
}
