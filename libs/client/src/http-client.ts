import { APIConnectionError, APIConnectionTimeoutError, APIError } from './errors.js'

/** Where the token comes from: a fixed string, or a function asked before each use (`refresh` after a 4001). */
export type TokenSource = string | ((opts: { refresh: boolean }) => string | undefined | Promise<string | undefined>)

export interface HttpOptions {
  /** The funnel, e.g. `http://127.0.0.1:5000`. */
  baseURL: string
  token?: TokenSource
  fetch?: typeof fetch
  /** Milliseconds allowed to one attempt (default 60 000: an image can take a while). */
  timeout?: number
  /**
   * Attempts after the first (default 2): on 429 for every request; on connection errors, timeouts, 408 and 5xx
   * only for the idempotent ones (see RequestOptions.idempotent).
   */
  maxRetries?: number
}

export interface RequestOptions {
  body?: unknown
  query?: Record<string, string | number | undefined>
  /** Send the token (default true; the dev login needs none). */
  auth?: boolean
  signal?: AbortSignal
  /**
   * Whether sending the request twice does what sending it once does, so that it may be sent again after a
   * connection error, a timeout, a 408 or a 5xx, when it may have been carried out already. Default: true for
   * GET, HEAD, PUT, DELETE and OPTIONS, false otherwise: a POST is not repeated (a task started twice, an image
   * made twice) unless the call says it is safe (a search, an upsert of documents). A 429 is retried either way:
   * the server did nothing.
   */
  idempotent?: boolean
}

const RETRY_MAX_DELAY_MS = 8_000
const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS'])

export async function resolveToken (source: TokenSource | undefined, refresh = false): Promise<string | undefined> {
  return typeof source === 'function' ? await source({ refresh }) : source
}

/**
 * The funnel's HTTP API: JSON in and out, the token as a Bearer header, bounded retries with backoff that
 * honour `Retry-After` (of idempotent requests only, but for a 429), and errors as one class per status (with
 * the code, message and request id).
 */
export class HttpClient {
  readonly baseURL: string
  private readonly fetch: typeof fetch
  private readonly timeout: number
  private readonly maxRetries: number

  constructor (private readonly opts: HttpOptions) {
    this.baseURL = opts.baseURL.replace(/\/+$/, '')
    this.fetch = opts.fetch ?? globalThis.fetch.bind(globalThis)
    this.timeout = opts.timeout ?? 60_000
    this.maxRetries = opts.maxRetries ?? 2
  }

  async token (refresh = false): Promise<string | undefined> {
    return await resolveToken(this.opts.token, refresh)
  }

  url (path: string, query?: RequestOptions['query']): string {
    const params = new URLSearchParams()
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) params.set(k, String(v))
    const qs = params.toString()
    return `${this.baseURL}${path}${qs ? `?${qs}` : ''}`
  }

  async get<T> (path: string, opts: RequestOptions = {}): Promise<T> { return await this.request<T>('GET', path, opts) }
  async post<T> (path: string, opts: RequestOptions = {}): Promise<T> { return await this.request<T>('POST', path, opts) }
  async delete<T = void> (path: string, opts: RequestOptions = {}): Promise<T> { return await this.request<T>('DELETE', path, opts) }

  async request<T> (method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' }
    if (opts.body !== undefined) headers['content-type'] = 'application/json'
    if (opts.auth !== false) {
      const token = await this.token()
      if (token) headers.authorization = `Bearer ${token}`
    }
    const url = this.url(path, opts.query)
    const idempotent = opts.idempotent ?? IDEMPOTENT_METHODS.has(method.toUpperCase())
    const retryable = (status: number): boolean => status === 429 || (idempotent && (status === 408 || status >= 500))
    for (let attempt = 0; ; attempt++) {
      let res: Response
      const timeout = AbortSignal.timeout(this.timeout)
      const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout
      try {
        res = await this.fetch(url, { method, headers, signal, ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}) })
      } catch (err) {
        if (opts.signal?.aborted) throw err
        const error = timeout.aborted
          ? new APIConnectionTimeoutError(`${method} ${path}: no answer within ${this.timeout} ms`, { cause: err })
          : new APIConnectionError(`${method} ${path}: the funnel could not be reached (${err instanceof Error ? err.message : String(err)})`, { cause: err })
        if (!idempotent || attempt >= this.maxRetries) throw error
        await sleep(backoff(attempt), opts.signal)
        continue
      }
      const requestId = res.headers.get('x-request-id') ?? undefined
      if (res.ok) {
        if (res.status === 204) return undefined as T
        return await res.json() as T
      }
      const body = await res.json().catch(() => null) as unknown
      if (attempt < this.maxRetries && retryable(res.status)) {
        await sleep(retryAfter(res.headers.get('retry-after')) ?? backoff(attempt), opts.signal)
        continue
      }
      throw APIError.fromResponse(res.status, body, requestId)
    }
  }
}

function backoff (attempt: number): number {
  return Math.min(RETRY_MAX_DELAY_MS, 500 * 2 ** attempt) * (0.75 + Math.random() / 4)
}

function retryAfter (header: string | null): number | undefined {
  if (!header) return undefined
  const seconds = Number(header)
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now()
  return Number.isFinite(ms) && ms >= 0 ? Math.min(ms, RETRY_MAX_DELAY_MS) : undefined
}

async function sleep (ms: number, signal?: AbortSignal): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms)
    signal?.addEventListener('abort', () => { clearTimeout(timer); reject(signal.reason) }, { once: true })
  })
}
