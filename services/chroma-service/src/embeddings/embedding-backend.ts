import { embeddingModelOf, modelBackends, readModelsFile, type ConfiguredBackend } from '@skein/kit'
import type { MemorySettings } from '../config.js'
import { EmbeddingUnavailableError } from '../errors.js'

const OPENAI_API = 'https://api.openai.com/v1'

/** One OpenAI-compatible server the embedder may call. */
export interface EmbeddingBackend {
  /** Its name in the models file; "default" when the environment alone makes it. */
  name: string
  /** Its base URL: `/embeddings` and `/models` are below it. */
  baseURL: string
  apiKey?: string
}

/**
 * The embedding model and the backends that may serve it, read as the openai-service reads its configuration
 * (its `resolveModels` and `ModelRouter`): EMBEDDING_MODEL, else the models file's embeddingModel, else the
 * default; the file's backends with OPENAI_BASE_URL and OPENAI_API_KEY over the first one (or, without a file,
 * one backend made of them). Which backend serves the model: the one whose list names it, else the wildcard
 * ("*") ones, whose /models says.
 */
export interface EmbeddingRoute {
  model: string
  /** The first backend whose list names the model: it serves it. */
  named?: EmbeddingBackend
  /** Without one, the backends serving whatever their /models lists, in the file's order. */
  wildcards: EmbeddingBackend[]
  /** Where the backends come from, for errors: "MODELS_CONFIG <path>", or the environment. */
  source: string
}

const trimmed = (url: string): string => url.replace(/\/+$/, '')

/** Reads the models file (throwing, with the file and the field named, when it is bad) and routes the embedding model. */
export function embeddingRoute (c: MemorySettings, env: Record<string, string | undefined> = process.env): EmbeddingRoute {
  const file = c.MODELS_CONFIG ? readModelsFile(c.MODELS_CONFIG) : undefined
  const model = embeddingModelOf(file, c)
  const backends = modelBackends(file, c, env)
  const strip = ({ name, baseURL, apiKey }: ConfiguredBackend): EmbeddingBackend => ({ name, baseURL: trimmed(baseURL ?? OPENAI_API), ...(apiKey ? { apiKey } : {}) })
  const named = backends.find((b) => b.models !== '*' && b.models.includes(model))
  return {
    model,
    ...(named ? { named: strip(named) } : {}),
    wildcards: named ? [] : backends.filter((b) => b.models === '*').map(strip),
    source: c.MODELS_CONFIG ? `MODELS_CONFIG ${c.MODELS_CONFIG}` : 'the environment'
  }
}

/** Whether the backend's GET /models lists `model`; undefined when it cannot be asked. */
async function lists (backend: EmbeddingBackend, model: string, timeoutMs: number): Promise<boolean | undefined> {
  try {
    const res = await fetch(`${backend.baseURL}/models`, {
      headers: { accept: 'application/json', ...(backend.apiKey ? { authorization: `Bearer ${backend.apiKey}` } : {}) },
      signal: AbortSignal.timeout(timeoutMs)
    })
    if (!res.ok) return undefined
    const page = await res.json() as { data?: Array<{ id?: unknown }> }
    return (page.data ?? []).some((m) => m.id === model)
  } catch {
    return undefined
  }
}

/**
 * The backend to embed with, as the openai-service's router picks it: the one naming the model; else the only
 * wildcard one; else the first wildcard one whose /models lists it, or one that could not be asked (it gets the
 * call, and says no itself). `settled` is false for that last guess, to be asked again next time.
 */
export async function chooseBackend (route: EmbeddingRoute, timeoutMs: number): Promise<{ backend: EmbeddingBackend, settled: boolean }> {
  if (route.named) return { backend: route.named, settled: true }
  const [only, ...others] = route.wildcards
  if (!only) {
    throw new EmbeddingUnavailableError(route.source === 'the environment'
      ? 'no embedding backend is configured: set OPENAI_API_KEY or OPENAI_BASE_URL (or MODELS_CONFIG)'
      : `${route.model}: no backend of ${route.source} serves it (none lists it, none serves "*")`)
  }
  if (others.length === 0) return { backend: only, settled: true }
  let unasked: EmbeddingBackend | undefined
  for (const b of route.wildcards) {
    const listed = await lists(b, route.model, timeoutMs)
    if (listed === true) return { backend: b, settled: true }
    if (listed === undefined) unasked ??= b
  }
  if (unasked) return { backend: unasked, settled: false }
  throw new EmbeddingUnavailableError(`${route.model}: no backend of ${route.source} serves it (${route.wildcards.map((b) => b.name).join(', ')} do not list it)`)
}
