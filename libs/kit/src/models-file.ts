import { readFileSync } from 'node:fs'
import { Ajv } from 'ajv'
import { ModelsConfig, type ModelBackend } from '@skein/schemas'

const validate = new Ajv({ allErrors: true, strict: false }).compile(ModelsConfig)

/**
 * Reads and validates a models file (MODELS_CONFIG), for every service that resolves models from it (the
 * openai-service's model layer, the chroma-service's embedder); the error names the file and the failing field.
 */
export function readModelsFile (path: string): ModelsConfig {
  let data: unknown
  try {
    data = JSON.parse(readFileSync(path, 'utf8'))
  } catch (err) {
    throw new Error(`MODELS_CONFIG ${path}: ${err instanceof Error ? err.message : String(err)}`)
  }
  if (!validate(data)) {
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`).join('; ')
    throw new Error(`MODELS_CONFIG ${path} is not a valid models file: ${problems}`)
  }
  return data as ModelsConfig
}

/** The settings every service that calls models reads, beside the models file. */
export interface ModelSettings {
  MODELS_CONFIG?: string | undefined
  OPENAI_BASE_URL?: string | undefined
  OPENAI_API_KEY?: string | undefined
  MODEL_BACKEND: 'simulator' | 'openai-compatible'
  EMBEDDING_MODEL?: string | undefined
}

/** A backend in force: its key read (`apiKey`, else the `apiKeyEnv` variable), OPENAI_* applied. */
export interface ConfiguredBackend {
  name: string
  /** Absent: OpenAI's own API. */
  baseURL?: string
  apiKey?: string
  /** Explicit names, or '*' for whatever the backend's /models lists. */
  models: string[] | '*'
  /** Its entry in the models file (its timeouts, retries); none for the one the environment alone makes. */
  entry?: ModelBackend
}

/**
 * The backends in force, the same for every service: the models file's, with OPENAI_BASE_URL and OPENAI_API_KEY
 * over the first one's; without a file, one backend made of those two ("default"); with neither, none.
 */
export function modelBackends (file: ModelsConfig | undefined, c: ModelSettings, env: Record<string, string | undefined> = process.env): ConfiguredBackend[] {
  const backends: ConfiguredBackend[] = (file?.backends ?? []).map((b) => {
    const apiKey = b.apiKey ?? (b.apiKeyEnv ? env[b.apiKeyEnv] : undefined)
    return { name: b.name, ...(b.baseURL ? { baseURL: b.baseURL } : {}), ...(apiKey ? { apiKey } : {}), models: b.models.includes('*') ? '*' : b.models, entry: b }
  })
  if (c.OPENAI_BASE_URL || c.OPENAI_API_KEY) {
    const first = backends[0]
    if (first) {
      if (c.OPENAI_BASE_URL) first.baseURL = c.OPENAI_BASE_URL
      if (c.OPENAI_API_KEY) first.apiKey = c.OPENAI_API_KEY
    } else {
      backends.push({ name: 'default', ...(c.OPENAI_BASE_URL ? { baseURL: c.OPENAI_BASE_URL } : {}), ...(c.OPENAI_API_KEY ? { apiKey: c.OPENAI_API_KEY } : {}), models: '*' })
    }
  }
  return backends
}

/** The embedding model in force: EMBEDDING_MODEL, else the models file's, else the backend's default. */
export function embeddingModelOf (file: ModelsConfig | undefined, c: ModelSettings): string {
  return c.EMBEDDING_MODEL ?? file?.embeddingModel ?? (c.MODEL_BACKEND === 'simulator' ? 'skein-sim-embed' : 'text-embedding-3-small')
}
