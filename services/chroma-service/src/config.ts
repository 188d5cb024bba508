import { Type, type Static } from 'typebox'
import { AuthConfig, BaseConfig } from '@skein/kit'

/** Chroma, the embedding backend and thread memory: shared by the service and the rebuild command. */
export const MemorySettings = Type.Object({
  CHROMA_URL: Type.String({ pattern: '^https?://', default: 'http://127.0.0.1:8000', description: 'The Chroma server' }),
  CHROMA_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 10_000, description: 'Time allowed to each Chroma request (a query, one batch of an upsert); past it the request is abandoned and the client gets 503 MEMORY_UNAVAILABLE' }),
  MODELS_CONFIG: Type.Optional(Type.String({ minLength: 1, description: 'The models file the openai-service reads (JSON, see ModelsConfig): memory is embedded with its embeddingModel, by the backend of the file that serves that model, as the openai-service would route it. A file that cannot be read or is not valid stops the start' })),
  OPENAI_API_KEY: Type.Optional(Type.String({ description: 'Key of the embedding backend (with MODELS_CONFIG: of the file\'s first backend)' })),
  OPENAI_BASE_URL: Type.Optional(Type.String({ pattern: '^https?://', description: 'The embedding backend: any OpenAI-compatible server (with MODELS_CONFIG: replaces the file\'s first backend\'s)' })),
  MODEL_BACKEND: Type.Union([Type.Literal('simulator'), Type.Literal('openai-compatible')], { default: 'openai-compatible' }),
  EMBEDDING_MODEL: Type.Optional(Type.String({ minLength: 1, description: 'Default: the embeddingModel of MODELS_CONFIG, else skein-sim-embed on the simulator, text-embedding-3-small otherwise' })),
  EMBEDDING_DIMENSIONS: Type.Optional(Type.Integer({ minimum: 1, maximum: 8192, description: 'Ask the backend for vectors of this length (models that support it); default: the model\'s own' })),
  EMBEDDING_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 30_000 }),
  EMBEDDING_BATCH: Type.Integer({ minimum: 1, maximum: 2048, default: 128, description: 'Texts per /v1/embeddings call' }),
  EMBEDDING_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 32, default: 4, description: '/v1/embeddings calls at once for one large upsert' }),
  EMBEDDING_MAX_CHARS: Type.Integer({ minimum: 100, default: 8_000, description: 'Longer texts are stored whole but embedded from their first this-many characters' }),
  UPSERT_BATCH: Type.Integer({ minimum: 1, maximum: 5_000, default: 1_000, description: 'Records per Chroma upsert (also capped by the server\'s own batch limit)' }),
  THREADS_RPC_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 2_000, description: 'How long to wait for the openai-service when looking up a thread\'s record' }),
  MEMORY_COLLECTION: Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{2,62}$', default: 'skein-memory', description: 'The collection thread memory is indexed into' }),
  MEMORY_BATCH: Type.Integer({ minimum: 1, maximum: 1000, default: 64, description: 'Messages embedded and upserted together' })
})
export type MemorySettings = Static<typeof MemorySettings>

export const ChromaServiceConfig = Type.Object({
  ...BaseConfig.properties,
  ...AuthConfig.properties,
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8001, description: 'Port to listen on (npm start uses 8002)' }),
  MEMORY_UPSERT_BODY_LIMIT: Type.Integer({ minimum: 1024, default: 33_554_432, description: 'Largest accepted body of POST /api/collections/:name/documents, in bytes (32 MiB: 1,000 documents of 32,000 characters); every other route keeps BODY_LIMIT' }),
  ...MemorySettings.properties
})
export type ChromaServiceConfig = Static<typeof ChromaServiceConfig>

/** The rebuild command: no HTTP, no tokens. */
export const RebuildConfig = Type.Object({
  NATS_URL: BaseConfig.properties.NATS_URL,
  NATS_CONNECT_TIMEOUT_MS: BaseConfig.properties.NATS_CONNECT_TIMEOUT_MS,
  ...MemorySettings.properties
})
export type RebuildConfig = Static<typeof RebuildConfig>

declare module '@skein/kit' {
  interface ServiceConfig extends ChromaServiceConfig {}
}
