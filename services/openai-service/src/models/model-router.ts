import OpenAI from 'openai'
import type { FastifyBaseLogger } from 'fastify'
import { NoModelBackendError, UnknownModelError } from '../errors.js'
import type { ResolvedBackend, ResolvedModels } from './models-file.js'

export interface Backend extends ResolvedBackend {
  client: OpenAI
}

const DISCOVERY_TTL_MS = 60_000

/** Which backend serves which model: explicit lists first, then what wildcard backends' /models list. */
export class ModelRouter {
  readonly backends: Backend[]
  readonly defaultModel: string
  readonly fallbackModel: string | undefined
  readonly embeddingModel: string
  private readonly discovered = new Map<string, { at: number, models: string[] }>()

  constructor (resolved: ResolvedModels, private readonly log: FastifyBaseLogger) {
    this.defaultModel = resolved.defaultModel
    this.fallbackModel = resolved.fallbackModel
    this.embeddingModel = resolved.embeddingModel
    this.backends = resolved.backends.map((b) => ({
      ...b,
      // The SDK's own retries are off: retries, Retry-After and fallback are ours, so they are bounded
      // and visible. Its timeout covers a call until the backend answers with headers.
      client: new OpenAI({
        apiKey: b.apiKey ?? 'none',
        ...(b.baseURL ? { baseURL: b.baseURL } : {}),
        timeout: b.timeouts.connectMs,
        maxRetries: 0
      })
    }))
  }

  get configured (): boolean {
    return this.backends.length > 0
  }

  /** The models a wildcard backend lists, cached for a minute; empty when it cannot be asked. */
  async discover (backend: Backend): Promise<string[]> {
    const cached = this.discovered.get(backend.name)
    if (cached && Date.now() - cached.at < DISCOVERY_TTL_MS) return cached.models
    try {
      const page = await backend.client.models.list({ timeout: backend.timeouts.connectMs })
      const models = page.data.map((m) => m.id)
      this.discovered.set(backend.name, { at: Date.now(), models })
      return models
    } catch (err) {
      this.log.warn({ err, backend: backend.name }, 'could not list the backend\'s models')
      return cached?.models ?? []
    }
  }

  /** Every model name a request may use, with the backend that serves it. */
  async list (): Promise<Array<{ id: string, backend: string }>> {
    if (!this.configured) throw new NoModelBackendError()
    const seen = new Map<string, string>()
    for (const b of this.backends) {
      const names = b.models === '*' ? await this.discover(b) : b.models
      for (const id of names) if (!seen.has(id)) seen.set(id, b.name)
    }
    return [...seen].map(([id, backend]) => ({ id, backend }))
  }

  /** The backend for `model`; a 400 naming the known models when none serves it. */
  async resolve (model: string): Promise<Backend> {
    if (!this.configured) throw new NoModelBackendError()
    const explicit = this.backends.find((b) => b.models !== '*' && b.models.includes(model))
    if (explicit) return explicit
    const wildcards = this.backends.filter((b) => b.models === '*')
    for (const b of wildcards) if ((await this.discover(b)).includes(model)) return b
    // A wildcard backend that could not list its models still gets the call: it is the one to say no.
    const unlisted = wildcards.find((b) => !this.discovered.has(b.name))
    if (unlisted) return unlisted
    const known = (await this.list()).map((m) => m.id)
    throw new UnknownModelError(model, known.length ? known.join(', ') : '(none)')
  }
}
