import { readModelsFile } from '@skein/kit'
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
  const backends: ResolvedBackend[] = (file?.backends ?? []).map((b) => {
    const apiKey = b.apiKey ?? (b.apiKeyEnv ? env[b.apiKeyEnv] : undefined)
    return {
      name: b.name,
      ...(b.baseURL ? { baseURL: b.baseURL } : {}),
      ...(apiKey ? { apiKey } : {}),
      models: b.models.includes('*') ? '*' : b.models,
      timeouts: { ...timeouts, ...b.timeouts },
      maxRetries: b.maxRetries ?? config.MODEL_MAX_RETRIES
    }
  })
  if (config.OPENAI_BASE_URL || config.OPENAI_API_KEY) {
    const first = backends[0]
    if (first) {
      if (config.OPENAI_BASE_URL) first.baseURL = config.OPENAI_BASE_URL
      if (config.OPENAI_API_KEY) first.apiKey = config.OPENAI_API_KEY
    } else {
      backends.push({
        name: 'default',
        ...(config.OPENAI_BASE_URL ? { baseURL: config.OPENAI_BASE_URL } : {}),
        ...(config.OPENAI_API_KEY ? { apiKey: config.OPENAI_API_KEY } : {}),
        models: '*',
        timeouts,
        maxRetries: config.MODEL_MAX_RETRIES
      })
    }
  }
  const fallbackModel = config.FALLBACK_MODEL ?? file?.fallbackModel
  const simulated = config.MODEL_BACKEND === 'simulator'
  return {
    defaultModel: config.SKEIN_MODEL ?? file?.defaultModel ?? (simulated ? 'skein-sim-1' : 'gpt-4o-mini'),
    ...(fallbackModel ? { fallbackModel } : {}),
    embeddingModel: config.EMBEDDING_MODEL ?? file?.embeddingModel ?? (simulated ? 'skein-sim-embed' : 'text-embedding-3-small'),
    backends
  }
}
