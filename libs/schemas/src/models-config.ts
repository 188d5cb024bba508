import { Type, type Static } from 'typebox'

/** Bounds of one model call. */
export const ModelTimeouts = Type.Object({
  connectMs: Type.Integer({ minimum: 100, default: 15_000, description: 'Until the backend answers with headers' }),
  firstTokenMs: Type.Integer({ minimum: 100, default: 30_000, description: 'Until the first token of a stream' }),
  idleMs: Type.Integer({ minimum: 100, default: 30_000, description: 'Longest silence between two tokens' })
}, { title: 'ModelTimeouts' })
export type ModelTimeouts = Static<typeof ModelTimeouts>

/** One OpenAI-compatible server: OpenAI, Ollama, vLLM, llama.cpp, LM Studio, OpenRouter, the simulator. */
export const ModelBackend = Type.Object({
  name: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,31}$', examples: ['openai', 'ollama'] }),
  baseURL: Type.Optional(Type.String({ pattern: '^https?://', description: 'Default: OpenAI\'s API' })),
  apiKey: Type.Optional(Type.String({ description: 'Prefer apiKeyEnv: keys do not belong in files' })),
  apiKeyEnv: Type.Optional(Type.String({ pattern: '^[A-Z_][A-Z0-9_]*$', description: 'The environment variable holding the key' })),
  models: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, description: 'Model names this backend serves; "*" means whatever its /models lists' }),
  timeouts: Type.Optional(Type.Partial(ModelTimeouts)),
  maxRetries: Type.Optional(Type.Integer({ minimum: 0, maximum: 10, description: 'Retries on 429, 5xx and timeouts before the first token' }))
}, { title: 'ModelBackend' })
export type ModelBackend = Static<typeof ModelBackend>

/** The models file (MODELS_CONFIG): which backends serve which models, and the defaults. */
export const ModelsConfig = Type.Object({
  defaultModel: Type.String({ minLength: 1 }),
  fallbackModel: Type.Optional(Type.String({ minLength: 1, description: 'Used when the requested model fails before its first token' })),
  embeddingModel: Type.String({ minLength: 1 }),
  backends: Type.Array(ModelBackend, { minItems: 1 })
}, { title: 'ModelsConfig' })
export type ModelsConfig = Static<typeof ModelsConfig>

/** Per-model usage, as `/health` and `GET /models/stats` report it. */
export const ModelUsage = Type.Object({
  model: Type.String({ examples: ['skein-sim-1'] }),
  backend: Type.String({ examples: ['default'] }),
  requests: Type.Integer(),
  errors: Type.Integer(),
  fallbacks: Type.Integer({ description: 'Requests for this model answered by the fallback model' }),
  retries: Type.Integer(),
  promptTokens: Type.Integer(),
  completionTokens: Type.Integer(),
  avgFirstTokenMs: Type.Union([Type.Number(), Type.Null()]),
  avgDurationMs: Type.Union([Type.Number(), Type.Null()]),
  active: Type.Integer({ description: 'Generations under way now' })
}, { title: 'ModelUsage' })
export type ModelUsage = Static<typeof ModelUsage>

/** The OpenAI API's own error shape, answered on the `/v1` surface (a superset of Skein's). */
export const OpenAIErrorBody = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    type: Type.String({ examples: ['invalid_request_error'] }),
    param: Type.Union([Type.String(), Type.Null()])
  })
}, { title: 'OpenAIErrorBody' })
export type OpenAIErrorBody = Static<typeof OpenAIErrorBody>

/** A stored piece of media (speech, image) whose `url` serves its bytes through the funnel. */
export const MediaItem = Type.Object({
  id: Type.String({ examples: ['3f0e1c9a-5b1d-4b8e-9a44-2e4c8b7d9f10'] }),
  kind: Type.Union([Type.Literal('audio'), Type.Literal('image')]),
  mime: Type.String({ examples: ['audio/wav', 'image/png'] }),
  size: Type.Integer({ minimum: 0 }),
  url: Type.String({ examples: ['/media/3f0e1c9a-5b1d-4b8e-9a44-2e4c8b7d9f10'] }),
  model: Type.String(),
  createdAt: Type.String({ format: 'date-time' })
}, { title: 'MediaItem' })
export type MediaItem = Static<typeof MediaItem>
