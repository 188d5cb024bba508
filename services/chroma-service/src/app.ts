import type { FastifyPluginAsync } from 'fastify'
import { busPlugin } from '@skein/bus'
import { authPlugin } from '@skein/kit'
import chromaClient from './plugins/chroma-client.js'

export const PUBLIC_PATHS = ['/health', '/api/health', '/api/docs', '/api/docs/*', '/api/openapi.json']

/** The chroma-service as a plugin: decorators first (bus, Chroma client), then routes under /api. */
const app: FastifyPluginAsync = async (fastify) => {
  await fastify.register(authPlugin, { secret: fastify.config.JWT_SECRET, publicPaths: PUBLIC_PATHS })
  await fastify.register(busPlugin, { service: 'chroma-service' })
  await fastify.register(chromaClient)
}
export default app

export const definition = {
  name: 'chroma-service',
  errorPrefix: 'MEMORY',
  healthPaths: ['/health', '/api/health'],
  openapi: {
    title: 'Skein chroma-service',
    description: 'Vector memory over Chroma: collections, semantic search, and thread memory fed from NATS.',
    uiPath: '/api/docs',
    specPath: '/api/openapi.json',
    tags: [{ name: 'health', description: 'Liveness and readiness' }]
  }
}
