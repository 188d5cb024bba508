import type { FastifyPluginAsync } from 'fastify'
import { createError, requestToken, verifyToken } from '@skein/kit'
import { onFrame } from '../realtime/handlers.js'
import { frame } from '../realtime/hub.js'

const ForeignOriginError = createError<[string]>('FUNNEL_FORBIDDEN_ORIGIN', 'Origin %s may not open a WebSocket here (CORS_ORIGINS lists the allowed ones)', 403)

/**
 * `/ws`: the funnel's own WebSocket route, kept apart from the proxied paths. The token (header or `?token=`)
 * is checked before the upgrade by the auth plugin, the Origin here: a refused handshake never gets a 101.
 */
const ws: FastifyPluginAsync = async (fastify) => {
  const origins = new Set(fastify.config.CORS_ORIGINS.split(',').map((o) => o.trim()).filter(Boolean))
  const hub = fastify.realtime

  fastify.get('/ws', {
    websocket: true,
    preValidation: async (request) => {
      const origin = request.headers.origin
      if (origin !== undefined && !origins.has(origin)) throw new ForeignOriginError(origin.slice(0, 200))
    }
  }, (socket, request) => {
    // The auth plugin verified this token before the upgrade; its expiry closes the socket when it comes.
    const claims = verifyToken(fastify.config.JWT_SECRET, requestToken(request) ?? '')
    const session = hub.connect(socket, claims.sub, claims.exp * 1000, request.id)
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
