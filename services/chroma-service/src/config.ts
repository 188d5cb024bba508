import { Type, type Static } from 'typebox'
import { AuthConfig, BaseConfig } from '@skein/kit'

export const ChromaServiceConfig = Type.Object({
  ...BaseConfig.properties,
  ...AuthConfig.properties,
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8001, description: 'Port to listen on (npm start uses 8002)' }),
  CHROMA_URL: Type.String({ pattern: '^https?://', default: 'http://127.0.0.1:8000', description: 'The Chroma server' }),
  OPENAI_API_KEY: Type.Optional(Type.String({ description: 'Key of the embedding backend' })),
  OPENAI_BASE_URL: Type.Optional(Type.String({ pattern: '^https?://', description: 'The embedding backend: any OpenAI-compatible server' })),
  MODEL_BACKEND: Type.Union([Type.Literal('simulator'), Type.Literal('openai-compatible')], { default: 'openai-compatible' }),
  EMBEDDING_MODEL: Type.Optional(Type.String({ minLength: 1, description: 'Default: skein-sim-embed on the simulator, text-embedding-3-small otherwise' })),
  EMBEDDING_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 30_000 }),
  MEMORY_COLLECTION: Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{2,62}$', default: 'skein-memory', description: 'The collection thread memory is indexed into' }),
  MEMORY_BATCH: Type.Integer({ minimum: 1, maximum: 1000, default: 64, description: 'Messages embedded and upserted together' })
})
export type ChromaServiceConfig = Static<typeof ChromaServiceConfig>

declare module '@skein/kit' {
  interface ServiceConfig extends ChromaServiceConfig {}
}
