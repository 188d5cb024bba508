import type { FastifyPluginAsync } from 'fastify'
import cors from '@fastify/cors'
import websocket from '@fastify/websocket'
import { busPlugin } from '@skein/bus'
import { authPlugin } from '@skein/kit'
import { registerProxies } from './plugins/proxy.js'
import realtime from './plugins/realtime.js'
import security, { clientErrorHandler, frameworkErrors } from './plugins/security.js'
import health from './routes/health.js'
import ws from './routes/ws.js'

/** Open without a token: health, the API docs, and the dev login. Everything else, `/ws` included, needs one. */
export const PUBLIC_PATHS = [
  '/health', '/health/funnel',
  '/docs', '/docs/*', '/openai.json', '/auth/token',
  '/api/health', '/api/docs', '/api/docs/*', '/api/openapi.json'
]

/** The funnel as a plugin: external plugins, then decorators (bus), then its own routes and the proxies. */
const app: FastifyPluginAsync = async (fastify) => {
  const origins = fastify.config.CORS_ORIGINS.split(',').map((o) => o.trim()).filter(Boolean)
  await fastify.register(cors, { origin: origins, credentials: false, maxAge: 600, exposedHeaders: ['x-request-id'] })
  // websocket before security: its hook marks upgrade requests, so one refused by a rate limit is closed after its 429.
  await fastify.register(websocket, { options: { maxPayload: fastify.config.WS_MAX_PAYLOAD_BYTES, perMessageDeflate: false } })
  await fastify.register(security)
  await fastify.register(authPlugin, { secret: fastify.config.JWT_SECRET, publicPaths: PUBLIC_PATHS })
  await fastify.register(busPlugin, { service: 'funnel' })
  await fastify.register(realtime)
  await fastify.register(health)
  await fastify.register(ws)
  await registerProxies(fastify)
}
export default app

export const definition = {
  name: 'funnel',
  errorPrefix: 'FUNNEL',
  // The funnel's own readiness; `/health` is the whole stack's.
  healthPaths: ['/health/funnel'],
  // Requests refused before routing (timeouts, oversized headers, unreadable URLs) answer in the one error format too.
  fastify: { clientErrorHandler, frameworkErrors }
}
