import type { MemorySettings } from '../config.js'
import { EmbeddingRefusedError, EmbeddingUnavailableError } from '../errors.js'
import { chooseBackend, embeddingRoute, type EmbeddingBackend, type EmbeddingRoute } from './embedding-backend.js'

const MAX_RETRIES = 2
const RETRY_MAX_DELAY_MS = 8_000
const retryable = (status: number): boolean => status === 408 || status === 409 || status === 429 || status >= 500
/**
 * The backend refused the input itself (malformed, too long, unprocessable): the same text will be refused again.
 * Not 401, 403 or 404: a bad key, a closed account or an unknown model refuse every text alike, so they say
 * the backend is unusable (a wait, a fix of the configuration), not that this text is.
 */
const refusesInput = (status: number): boolean => status === 400 || status === 413 || status === 422

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** A vector as the backend sent it: a list of numbers, or base64 of little-endian float32s. */
function vector (embedding: number[] | string): number[] {
  if (typeof embedding !== 'string') return embedding
  const bytes = Buffer.from(embedding, 'base64')
  return Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4))
}

/**
 * Embeddings through the configured backend's `POST /v1/embeddings` (OpenAI's models with a key, the
 * simulator's offline ones without, a models file's embeddingModel on the backend that serves it, chosen as the
 * openai-service chooses it: embedding-backend.ts): many texts go in batches of EMBEDDING_BATCH,
 * EMBEDDING_CONCURRENCY calls at once; each call is bounded by EMBEDDING_TIMEOUT_MS and retried twice on 429,
 * 5xx and network errors (honouring Retry-After). One plain HTTP call per batch: the openai SDK cost a measured
 * 0.3–0.6 ms more per query (see docs/benchmarks.md), and this endpoint needs nothing else from it. A refusal
 * of the input (400, 413, 422) is an EmbeddingRefusedError (422); every other failure an
 * EmbeddingUnavailableError (503); both say why.
 */
export class Embedder {
  readonly model: string
  private readonly route: EmbeddingRoute
  private chosen: EmbeddingBackend | undefined
  private knownDimensions: number | undefined

  /** Throws when MODELS_CONFIG cannot be read or is not valid, naming the file and the field: the service does not start. */
  constructor (private readonly c: MemorySettings, env: Record<string, string | undefined> = process.env) {
    this.route = embeddingRoute(c, env)
    this.model = this.route.model
  }

  /** Where the model is embedded, for people: "at <base URL>" of the backend serving it, or the ones that may. */
  get where (): string {
    const { named, wildcards, source } = this.route
    if (named) return `at ${named.baseURL} (${source})`
    return wildcards.length ? `at ${wildcards.map((b) => b.baseURL).join(' or ')} (${source})` : `with no backend serving it in ${source}`
  }

  /** One vector per text, in order. */
  async embed (texts: string[]): Promise<number[][]> {
    if (texts.length === 0) return []
    const batches: string[][] = []
    for (let i = 0; i < texts.length; i += this.c.EMBEDDING_BATCH) batches.push(texts.slice(i, i + this.c.EMBEDDING_BATCH))
    const out: number[][][] = new Array(batches.length)
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < batches.length) {
        const i = next++
        out[i] = await this.call(batches[i]!)
      }
    }
    await Promise.all(Array.from({ length: Math.min(this.c.EMBEDDING_CONCURRENCY, batches.length) }, worker))
    const vectors = out.flat()
    this.knownDimensions ??= vectors[0]?.length
    return vectors
  }

  /** The length of this model's vectors (asked once per process). */
  async dimensions (): Promise<number> {
    if (this.knownDimensions === undefined) await this.embed(['dimension probe'])
    return this.knownDimensions!
  }

  /** The backend serving the model, chosen on the first call (a wildcard backend's /models may have to be asked). */
  private async backend (): Promise<EmbeddingBackend> {
    if (this.chosen) return this.chosen
    const { backend, settled } = await chooseBackend(this.route, this.c.EMBEDDING_TIMEOUT_MS)
    if (settled) this.chosen = backend
    return backend
  }

  private async call (texts: string[]): Promise<number[][]> {
    const backend = await this.backend()
    const url = `${backend.baseURL}/embeddings`
    const headers = { 'content-type': 'application/json', accept: 'application/json', ...(backend.apiKey ? { authorization: `Bearer ${backend.apiKey}` } : {}) }
    const body = JSON.stringify({
      model: this.model,
      input: texts.map((t) => t.slice(0, this.c.EMBEDDING_MAX_CHARS)),
      encoding_format: 'float',
      ...(this.c.EMBEDDING_DIMENSIONS ? { dimensions: this.c.EMBEDDING_DIMENSIONS } : {})
    })
    for (let attempt = 0; ; attempt++) {
      let res: Response
      try {
        res = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(this.c.EMBEDDING_TIMEOUT_MS) })
      } catch (err) {
        const why = err instanceof Error && err.name === 'TimeoutError' ? `no answer within ${this.c.EMBEDDING_TIMEOUT_MS} ms` : `cannot reach ${new URL(url).origin}: ${err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err)}`
        if (attempt < MAX_RETRIES) {
          await delay(250 * 2 ** attempt)
          continue
        }
        throw new EmbeddingUnavailableError(`${this.model}: ${why}`)
      }
      if (res.ok) {
        const data = (await res.json() as { data?: Array<{ index: number, embedding: number[] | string }> }).data ?? []
        if (data.length !== texts.length) throw new EmbeddingUnavailableError(`${this.model}: asked for ${texts.length} embeddings, got ${data.length}`)
        return data.sort((a, b) => a.index - b.index).map((d) => vector(d.embedding))
      }
      const text = await res.text()
      if (attempt < MAX_RETRIES && retryable(res.status)) {
        const after = Number(res.headers.get('retry-after'))
        await delay(Math.min(RETRY_MAX_DELAY_MS, Number.isFinite(after) && after > 0 ? after * 1000 : 250 * 2 ** attempt))
        continue
      }
      let message = text.slice(0, 300)
      try {
        message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? message
      } catch {}
      const why = `${this.model} (HTTP ${res.status}): ${message}`
      throw refusesInput(res.status) ? new EmbeddingRefusedError(why) : new EmbeddingUnavailableError(why)
    }
  }
}
