import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import fp from 'fastify-plugin'
// Only its address normalisation (an IPv6 /64 counts as one address); the counting is RateWindows'.
import { normalizeIP } from '@fastify/rate-limit'
import type { ConnectionError, FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { createError, requestClaims } from '@skein/kit'
import { RateWindows } from '../limits/rate-windows.js'
import { securityHeaders } from '../limits/security-headers.js'

const RateLimitedError = createError<[string, string]>('FUNNEL_RATE_LIMITED', 'Too many requests %s: try again in %s (see the retry-after header)', 429)
const BadPathError = createError<[string]>('FUNNEL_BAD_PATH', 'The path is refused: %s', 400)

/** Paths monitors call: never rate limited (a monitor must see a funnel that is under attack). */
const UNLIMITED = new Set(['/health', '/health/funnel'])
/** How often Node looks for requests that overran REQUEST_TIMEOUT_MS (its default, 30 s, lets a slow body linger). */
const TIMEOUT_CHECK_MS = 1_000
const WINDOW_MS = 60_000

/**
 * Why a request path must not be served, or null when it may: a path that could climb out of where it points
 * once some server on the way decodes it. Dot segments are refused raw, percent-encoded, double-encoded and
 * behind encoded slashes or backslashes (`/api/%2e%2e%2fthreads`, `/api/%252e%252e/`, `/api/..%5cthreads`);
 * so are backslashes (URL parsers read them as `/`), NUL, broken escapes and targets that are not a path.
 */
export function unsafePath (url: string): string | null {
  const path = url.split('?', 1)[0] ?? ''
  if (!path.startsWith('/')) return 'the request target must be a path starting with "/"'
  let current = path
  for (let depth = 0; ; depth++) {
    if (current.includes('\\')) return 'it holds a backslash'
    if (current.includes('\0')) return 'it holds a NUL byte'
    if (current.split('/').some((s) => s === '.' || s === '..')) return 'it holds a "." or ".." segment (maybe percent-encoded)'
    if (!current.includes('%')) return null
    if (depth === 3) return 'it is percent-encoded more than three times over'
    let decoded: string
    try {
      decoded = decodeURIComponent(current)
    } catch {
      // The escapes the servers behind decode must be valid; a "%" left after that is a literal character.
      if (depth === 0) return 'it holds a malformed percent-escape'
      return null
    }
    if (decoded === current) return null
    current = decoded
  }
}

/**
 * The answer to a request Node refuses before Fastify sees it (a request that overran REQUEST_TIMEOUT_MS,
 * headers over HTTP_MAX_HEADER_BYTES, bytes that are not HTTP), in the one error format. Fastify's own
 * handler answers these with another JSON shape.
 */
export function clientErrorHandler (err: ConnectionError, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  const [status, code, message] = err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
    ? [408, 'FUNNEL_REQUEST_TIMEOUT', 'The request was not received whole within REQUEST_TIMEOUT_MS: send it again, faster']
    : err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'FUNNEL_HEADERS_TOO_LARGE', 'The request line and headers (the query string included) are larger than HTTP_MAX_HEADER_BYTES allows']
      : [400, 'FUNNEL_BAD_REQUEST', 'The request is not valid HTTP/1.1']
  // Answer only if nothing of a response has gone out on this connection yet, as Node itself does.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage
  if (socket.writable && inFlight?.headersSent !== true) {
    const body = JSON.stringify({ error: { code, message } })
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nx-content-type-options: nosniff\r\nconnection: close\r\n\r\n${body}`)
  }
  socket.destroy()
}

/**
 * The answer to a URL the router cannot read (a malformed percent-escape, a parameter over its length), which
 * Fastify gives before any hook runs: in the one error format, never a framework code.
 */
export function frameworkErrors (err: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const [status, code, message] = err.code === 'FST_ERR_BAD_URL'
    ? [400, 'FUNNEL_BAD_PATH', 'The path is refused: it holds a malformed percent-escape']
    : err.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? [414, 'FUNNEL_PATH_TOO_LONG', 'A part of the path is longer than any Skein name or id']
      : [500, 'FUNNEL_INTERNAL', 'The request could not be routed']
  void reply.code(status).header('x-content-type-options', 'nosniff').send({ error: { code, message } })
}

/**
 * The funnel's defences at the edge, before anything is proxied or upgraded:
 * - Node cuts a request that is not received whole within REQUEST_TIMEOUT_MS (checked every second), and a
 *   connection that sends nothing for as long; headers over HTTP_MAX_HEADER_BYTES are refused (431);
 * - security headers on every answer (helmet), with a Content-Security-Policy the Swagger UI pages work under;
 * - HTTP rate limits per user (the valid token's `sub`) and, without a valid token, per address;
 * - paths that climb (`..`, encoded or not) are refused, so no upstream ever resolves one.
 * Registered before the auth plugin: the rate limit runs first, so unauthenticated floods are counted too.
 */
export default fp(async function security (fastify) {
  const c = fastify.config

  // Fastify sets server.requestTimeout, but Node (20) cuts nothing by it while headersTimeout stays at its 60 s
  // default, and looks only every 30 s: a body or headers sent a byte at a time held a connection for minutes.
  // All set before listen(), where Node reads them. (Its types describe two of them as createServer() options only.)
  const server = fastify.server as typeof fastify.server & { maxHeaderSize: number, connectionsCheckingInterval: number }
  server.maxHeaderSize = c.HTTP_MAX_HEADER_BYTES
  if (c.REQUEST_TIMEOUT_MS > 0) {
    server.headersTimeout = Math.min(server.headersTimeout, c.REQUEST_TIMEOUT_MS)
    server.connectionsCheckingInterval = Math.min(TIMEOUT_CHECK_MS, c.REQUEST_TIMEOUT_MS)
    // Node's deadlines start with a request's first byte: a connection that never sends one would be held
    // for ever. It gets the same time to start as a request gets to finish.
    // The timer goes with the first request (a WebSocket would otherwise carry it for as long as it stays open).
    const waiting = new WeakMap<Socket, () => void>()
    server.on('connection', (socket: Socket) => {
      const timer = setTimeout(() => { if (socket.bytesRead === 0) socket.destroy() }, c.REQUEST_TIMEOUT_MS)
      timer.unref()
      const started = (): void => {
        clearTimeout(timer)
        socket.off('close', started)
        waiting.delete(socket)
      }
      socket.once('close', started)
      waiting.set(socket, started)
    })
    fastify.addHook('onRequest', async (request) => { waiting.get(request.raw.socket)?.() })
  }

  // The same security headers on every answer (refusals and WebSocket handshakes included), worked out once.
  // The funnel answers JSON, streams, media, and the two Swagger UI pages (/docs, /api/docs). The UI loads
  // its scripts, styles and spec from the same origin, sets inline styles and uses data: images: that is
  // all this policy allows. No upgrade-insecure-requests: the funnel is served over plain HTTP on :5000,
  // where it would send the pages' assets to an https:// that is not there.
  const headers = securityHeaders({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        baseUri: ["'self'"],
        connectSrc: ["'self'"],
        fontSrc: ["'self'", 'data:'],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        imgSrc: ["'self'", 'data:'],
        objectSrc: ["'none'"],
        scriptSrc: ["'self'"],
        scriptSrcAttr: ["'none'"],
        styleSrc: ["'self'", "'unsafe-inline'"]
      }
    },
    crossOriginResourcePolicy: { policy: 'same-site' },
    frameguard: { action: 'deny' }
  })
  // The web app shows /media/<id> in <img> and <audio>, and it may be served from another site than the
  // funnel (localhost and 127.0.0.1 already are): media may be embedded anywhere. It needs a token to be read.
  const mediaHeaders = headers.map(([name, value]) => [name, name === 'cross-origin-resource-policy' ? 'cross-origin' : value] as const)

  // HTTP requests per minute: a valid token's user, else the address (the auth plugin has not run yet: it
  // refuses before any later hook could count, so the token is read here, verified once for both).
  const windows = new RateWindows(WINDOW_MS)
  const keyOf = (request: FastifyRequest): string => {
    try {
      const claims = requestClaims(request, c.JWT_SECRET)
      if (claims) return `user:${claims.sub}`
    } catch { /* counted by address, as any request without a valid token */ }
    return `address:${normalizeIP(request.ip)}`
  }

  fastify.addHook('onRequest', (request, reply, done) => {
    const raw = reply.raw
    for (const [name, value] of request.url.startsWith('/media/') ? mediaHeaders : headers) raw.setHeader(name, value)
    const path = request.url.split('?', 1)[0] ?? ''
    if (UNLIMITED.has(path)) return done()
    const key = keyOf(request)
    const max = key.startsWith('user:') ? c.RATE_LIMIT_PER_MINUTE : c.RATE_LIMIT_ANON_PER_MINUTE
    const { count, resetInMs } = windows.hit(key)
    const reset = Math.ceil(resetInMs / 1000)
    void reply.headers({ 'x-ratelimit-limit': String(max), 'x-ratelimit-remaining': String(Math.max(0, max - count)), 'x-ratelimit-reset': String(reset) })
    if (count <= max) return done()
    const who = key.startsWith('user:')
      ? `for user ${key.slice(5)} (RATE_LIMIT_PER_MINUTE: ${max} a minute)`
      : `from this address without a valid token (RATE_LIMIT_ANON_PER_MINUTE: ${max} a minute)`
    done(Object.assign(new RateLimitedError(who, `${reset} s`), { headers: { 'retry-after': String(reset) } }))
  })

  // After authentication (a climbing path is never public, so without a token the answer stays 401), before
  // the route's handler: nothing is proxied, and no WebSocket is upgraded, on such a path.
  fastify.addHook('preParsing', async (request) => {
    const unsafe = unsafePath(request.url)
    if (unsafe) throw new BadPathError(unsafe)
  })
}, { name: 'funnel/security' })
