import { Type, type Static } from 'typebox'
import { AuthConfig, BaseConfig } from '@skein/kit'

export const ChromaServiceConfig = Type.Object({
  ...BaseConfig.properties,
  ...AuthConfig.properties,
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8001, description: 'Port to listen on (npm start uses 8002)' }),
  CHROMA_URL: Type.String({ pattern: '^https?://', default: 'http://127.0.0.1:8000', description: 'The Chroma server' })
})
export type ChromaServiceConfig = Static<typeof ChromaServiceConfig>

declare module '@skein/kit' {
  interface ServiceConfig extends ChromaServiceConfig {}
}
