import type { FastifyPluginAsync } from 'fastify'
import websocket from '@fastify/websocket'
import { busPlugin } from '@skein/bus'
import { registerProxies } from './plugins/proxy.js'
import health from './routes/health.js'
import ws from './routes/ws.js'

/** The funnel as a plugin: external plugins, then decorators (bus), then its own routes and the proxies. */
const app: FastifyPluginAsync = async (fastify) => {
  await fastify.register(websocket, { options: { maxPayload: 65_536, perMessageDeflate: false } })
  await fastify.register(busPlugin, { service: 'funnel' })
  await fastify.register(health)
  await fastify.register(ws)
  await registerProxies(fastify)
}
export default app

export const definition = {
  name: 'funnel',
  errorPrefix: 'FUNNEL',
  // The funnel's own readiness; `/health` is the whole stack's.
  healthPaths: ['/health/funnel']
}
