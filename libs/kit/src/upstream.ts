import { REQUEST_ID_HEADER } from './service.js'

export interface UpstreamCall {
  /** Carried as `x-request-id` so one user action can be followed across services. */
  requestId?: string
  timeoutMs: number
  headers?: Record<string, string>
}

export interface UpstreamAnswer<T> {
  status: number
  body: T
  latencyMs: number
}

/** GET a JSON document from another service, bounded in time, carrying the request id. */
export async function getJson<T = unknown> (url: string, call: UpstreamCall): Promise<UpstreamAnswer<T>> {
  const started = performance.now()
  const headers: Record<string, string> = { accept: 'application/json', ...call.headers }
  if (call.requestId) headers[REQUEST_ID_HEADER] = call.requestId
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(call.timeoutMs) })
  const body = (await res.json()) as T
  return { status: res.status, body, latencyMs: Math.round(performance.now() - started) }
}
