import type { ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { FastifyPluginAsync } from 'fastify'
import { normalizeIP } from '@fastify/rate-limit'
import { createError, requestClaims } from '@skein/kit'
import { onFrame } from '../realtime/handlers.js'
import { frame } from '../realtime/hub.js'
import { SocketQuota } from '../realtime/socket-quota.js'

const ForeignOriginError = createError<[string]>('FUNNEL_FORBIDDEN_ORIGIN', 'Origin %s may not open a WebSocket here (CORS_ORIGINS lists the allowed ones)', 403)
const TooManySocketsError = createError<[string]>('FUNNEL_TOO_MANY_SOCKETS', '%s: close one before opening another', 429)

/**
 * `/ws`: the funnel's own WebSocket route, kept apart from the proxied paths. The token (header or `?token=`)
 * is checked before the upgrade by the auth plugin, the Origin and the per-user and per-address socket caps
 * here: a refused handshake never gets a 101.
 */
const ws: FastifyPluginAsync = async (fastify) => {
  const c = fastify.config
  const origins = new Set(c.CORS_ORIGINS.split(',').map((o) => o.trim()).filter(Boolean))
  const quota = new SocketQuota(c.WS_MAX_SOCKETS_PER_USER, c.WS_MAX_SOCKETS_PER_ADDRESS)
  const hub = fastify.realtime

  fastify.get('/ws', {
    websocket: true,
    preValidation: async (request) => {
      const origin = request.headers.origin
      if (origin !== undefined && !origins.has(origin)) throw new ForeignOriginError(origin.slice(0, 200))
      if (!request.ws || request.user === null) return
      const slot = quota.take(request.user, normalizeIP(request.ip))
      if (slot === 'user') throw new TooManySocketsError(`user ${request.user} already has ${quota.perUser} WebSockets open on this funnel (WS_MAX_SOCKETS_PER_USER)`)
      if (slot === 'address') throw new TooManySocketsError(`this address already has ${quota.perAddress} WebSockets open on this funnel (WS_MAX_SOCKETS_PER_ADDRESS)`)
      // The slot lives as long as the TCP connection under the handshake: upgraded, refused later, or dropped.
      const conn = request.raw.socket
      if (conn.destroyed) slot()
      else conn.once('close', slot)
    }
  }, (socket, request) => {
    // The auth plugin refused any request without a valid token before the upgrade: this reads its verdict.
    // The token's expiry closes the socket when it comes.
    const claims = requestClaims(request, fastify.config.JWT_SECRET)!
    const session = hub.connect(socket, claims.sub, claims.exp * 1000, request.id)
    // @fastify/websocket routed the upgrade through a ServerResponse bound to the TCP socket, and its 'error'
    // listener holds the request and reply: unbound and replaced by ours below, they and all behind them
    // (headers, logger) are freed instead of living as long as the socket.
    const conn = request.raw.socket as Socket & { _httpMessage?: ServerResponse | null }
    conn._httpMessage?.detachSocket(conn)
    socket.removeAllListeners('error')
    // Listeners are attached before anything else, so no early frame is lost. They hold the session, not the
    // upgrade request: an idle socket costs the funnel as little memory as it can.
    const log = fastify.log
    socket.on('message', (raw, isBinary) => { void onFrame(hub, session, raw, isBinary, log) })
    socket.on('pong', () => { session.alive = true })
    socket.on('close', () => hub.disconnect(session))
    socket.on('error', (err) => {
      log.info({ err: err.message, session: session.id, reqId: session.requestId }, 'WebSocket error')
      hub.disconnect(session)
    })
    session.send(frame('status', { user: claims.sub, sessionId: session.id, funnel: hub.instance, requestId: request.id, expiresAt: new Date(claims.exp * 1000).toISOString() }))
  })
}
export default ws
