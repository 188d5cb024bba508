import { Type, type Static } from 'typebox'
import { AuthConfig, BaseConfig } from '@skein/kit'

export const OpenAIServiceConfig = Type.Object({
  ...BaseConfig.properties,
  ...AuthConfig.properties,
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8001, description: 'Port to listen on' }),
  MODELS_CONFIG: Type.Optional(Type.String({ description: 'A models file (JSON, see ModelsConfig): backends, the models each serves, defaults' })),
  OPENAI_API_KEY: Type.Optional(Type.String({ description: 'Key of the (first) model backend' })),
  OPENAI_BASE_URL: Type.Optional(Type.String({ pattern: '^https?://', description: 'The (first) backend: any OpenAI-compatible server' })),
  MODEL_BACKEND: Type.Union([Type.Literal('simulator'), Type.Literal('openai-compatible')], { default: 'openai-compatible', description: 'What the backend is, as /health reports it' }),
  SKEIN_MODEL: Type.Optional(Type.String({ minLength: 1, description: 'The default chat model (default: the models file\'s, else skein-sim-1)' })),
  FALLBACK_MODEL: Type.Optional(Type.String({ minLength: 1, description: 'Answers when the requested model fails before its first token' })),
  EMBEDDING_MODEL: Type.Optional(Type.String({ minLength: 1, description: 'The embedding model (default: the models file\'s, else skein-sim-embed)' })),
  SPEECH_MODEL: Type.Optional(Type.String({ minLength: 1, description: 'Text to speech (default: skein-sim-tts on the simulator, gpt-4o-mini-tts otherwise)' })),
  IMAGE_MODEL: Type.Optional(Type.String({ minLength: 1, description: 'Image generation (default: skein-sim-image on the simulator, gpt-image-1 otherwise)' })),
  MEDIA_MAX_BYTES: Type.Integer({ minimum: 1024, default: 20_971_520, description: 'Largest speech or image accepted from a backend' }),
  NATS_REPLICAS: Type.Integer({ minimum: 1, maximum: 5, default: 1, description: 'Replicas of streams and buckets (1 locally, 3 on a cluster)' }),
  THREAD_EVENTS_MAX_AGE_S: Type.Integer({ minimum: 60, default: 604_800, description: 'How long thread events, messages and tokens are kept' }),
  THREADS_DEDUP_WINDOW_S: Type.Integer({ minimum: 60, default: 600, description: 'How long the thread log remembers event ids, so that a retried or redelivered publish is stored once (covers retries, not days: every token has an id)' }),
  THREADS_NATS_RETRY_MS: Type.Integer({ minimum: 0, default: 20_000, description: 'How long thread events are retried, and thread records and logs read again, while NATS is briefly away (a restart, a node lost, a leader elected) before the work item fails and is redelivered' }),
  THREADS_MAX_DEPTH: Type.Integer({ minimum: 1, default: 3, description: 'Deepest task thread (the main thread is 0)' }),
  THREADS_MAX_CHILDREN: Type.Integer({ minimum: 1, default: 8, description: 'Most steps one thread may spawn' }),
  THREADS_MAX_PER_ROOT: Type.Integer({ minimum: 1, default: 64, description: 'Most threads in one task tree' }),
  THREADS_MAX_TOKENS_PER_ROOT: Type.Integer({ minimum: 100, default: 200_000, description: 'Most model tokens one task tree may use' }),
  THREADS_STEP_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 120_000, description: 'Wall time of one model call in a thread' }),
  THREADS_STEP_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 10, default: 3, description: 'Deliveries of one work item before its thread fails' }),
  THREADS_WORKERS: Type.Integer({ minimum: 1, maximum: 64, default: 4, description: 'Work items one instance runs at once' }),
  THREADS_ACK_WAIT_MS: Type.Integer({ minimum: 1000, default: 30_000, description: 'A worker silent this long has its item given to another' }),
  MODEL_CONNECT_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 15_000, description: 'Until a backend answers with headers' }),
  MODEL_FIRST_TOKEN_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 30_000, description: 'Until the first token of a stream' }),
  MODEL_IDLE_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 30_000, description: 'Longest silence between two tokens' }),
  MODEL_MAX_RETRIES: Type.Integer({ minimum: 0, maximum: 10, default: 2, description: 'Retries on 429, 5xx and timeouts before the first token' }),
  MODEL_RETRY_MAX_DELAY_MS: Type.Integer({ minimum: 0, default: 8_000, description: 'Cap on a retry\'s wait, Retry-After included' })
})
export type OpenAIServiceConfig = Static<typeof OpenAIServiceConfig>

declare module '@skein/kit' {
  interface ServiceConfig extends OpenAIServiceConfig {}
}
