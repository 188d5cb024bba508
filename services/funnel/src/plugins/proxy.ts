import type { FastifyInstance } from 'fastify'
import proxy, { type FastifyHttpProxyOptions } from '@fastify/http-proxy'
import type { ErrorBody } from '@skein/schemas'
import { REQUEST_ID_HEADER } from '@skein/kit'

interface Upstream {
  /** Who is behind it, in error messages: "chroma-service". */
  name: string
  url: string
  prefix: string
}

type OnError = NonNullable<NonNullable<FastifyHttpProxyOptions['replyOptions']>['onError']>

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ECONNRESET', 'UND_ERR_SOCKET', 'EAI_AGAIN'])

/** Maps a failed upstream call to 502 (down) or 504 (too slow) in the one error format, never naming an address. */
function upstreamError (name: string): OnError {
  return function onError (reply, { error: e }) {
    const error = e as Error & { statusCode?: number, code?: string, cause?: { code?: string } }
    const code = error.cause?.code ?? error.code ?? ''
    const timedOut = error.statusCode === 504 || code.includes('TIMEOUT')
    reply.log.warn({ err: error, upstream: name }, 'upstream call failed')
    const body: ErrorBody = timedOut
      ? { error: { code: 'FUNNEL_UPSTREAM_TIMEOUT', message: `The ${name} did not answer in time; try again, and check GET /health if it keeps happening` } }
      : { error: { code: 'FUNNEL_UPSTREAM_UNAVAILABLE', message: `The ${name} is not reachable${UNREACHABLE.has(code) ? '' : ' or answered badly'}; GET /health shows which part of Skein is down` } }
    void reply.code(timedOut ? 504 : 502).send(body)
  }
}

/**
 * `/api/*` to the chroma-service (path kept), everything else to the openai-service. Bodies stream through
 * unbuffered (SSE reaches the client token by token); the funnel's own routes (`/health`, `/ws`) win over
 * the catch-all because static routes beat wildcards.
 */
export async function registerProxies (fastify: FastifyInstance): Promise<void> {
  const c = fastify.config
  const upstreams: Upstream[] = [
    { name: 'chroma-service', url: c.CHROMA_SERVICE_URL, prefix: '/api' },
    { name: 'openai-service', url: c.OPENAI_SERVICE_URL, prefix: '/' }
  ]
  for (const u of upstreams) {
    await fastify.register(proxy, {
      upstream: u.url,
      prefix: u.prefix,
      rewritePrefix: u.prefix === '/' ? '' : u.prefix,
      websocket: false,
      // OPTIONS stays with the funnel: CORS preflights are answered at the edge.
      httpMethods: ['DELETE', 'GET', 'HEAD', 'PATCH', 'POST', 'PUT'],
      undici: {
        connectTimeout: c.UPSTREAM_CONNECT_TIMEOUT_MS,
        headersTimeout: c.UPSTREAM_HEADERS_TIMEOUT_MS,
        bodyTimeout: c.UPSTREAM_IDLE_TIMEOUT_MS
      },
      replyOptions: {
        rewriteRequestHeaders: (request, headers) => ({ ...headers, [REQUEST_ID_HEADER]: request.id }),
        onError: upstreamError(u.name),
        // A 503 from upstream is an answer to pass on, not a reason to retry ten times.
        retryDelay: () => null
      }
    })
  }
}
