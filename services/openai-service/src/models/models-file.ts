import { embeddingModelOf, modelBackends, readModelsFile } from '@skein/kit'
import type { ModelTimeouts } from '@skein/schemas'
import type { OpenAIServiceConfig } from '../config.js'

export interface ResolvedBackend {
  name: string
  baseURL?: string
  apiKey?: string
  /** Explicit names, or '*' for whatever the backend's /models lists. */
  models: string[] | '*'
  timeouts: ModelTimeouts
  maxRetries: number
}

export interface ResolvedModels {
  defaultModel: string
  fallbackModel?: string
  embeddingModel: string
  backends: ResolvedBackend[]
}

/**
 * The backends and defaults in force: the models file when given, with the environment on top
 * (OPENAI_BASE_URL and OPENAI_API_KEY for the first backend, SKEIN_MODEL, FALLBACK_MODEL, EMBEDDING_MODEL).
 * With neither a file nor a key nor a base URL there is no backend at all.
 */
export function resolveModels (config: OpenAIServiceConfig, env: Record<string, string | undefined> = process.env): ResolvedModels {
  const file = config.MODELS_CONFIG ? readModelsFile(config.MODELS_CONFIG) : undefined
  const timeouts: ModelTimeouts = {
    connectMs: config.MODEL_CONNECT_TIMEOUT_MS,
    firstTokenMs: config.MODEL_FIRST_TOKEN_TIMEOUT_MS,
    idleMs: config.MODEL_IDLE_TIMEOUT_MS
  }
  const backends: ResolvedBackend[] = modelBackends(file, config, env).map(({ entry, ...b }) => ({
    ...b,
    timeouts: { ...timeouts, ...entry?.timeouts },
    maxRetries: entry?.maxRetries ?? config.MODEL_MAX_RETRIES
  }))
  const fallbackModel = config.FALLBACK_MODEL ?? file?.fallbackModel
  return {
    defaultModel: config.SKEIN_MODEL ?? file?.defaultModel ?? (config.MODEL_BACKEND === 'simulator' ? 'skein-sim-1' : 'gpt-4o-mini'),
    ...(fallbackModel ? { fallbackModel } : {}),
    embeddingModel: embeddingModelOf(file, config),
    backends
  }
}
