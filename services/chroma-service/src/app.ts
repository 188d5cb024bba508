import type { FastifyPluginAsync } from 'fastify'
import { busPlugin } from '@skein/bus'
import { authPlugin } from '@skein/kit'
import chromaClient from './plugins/chroma-client.js'
import collectionsPlugin from './plugins/collections.js'
import embedder from './plugins/embedder.js'
import memory from './plugins/memory.js'
import collections from './routes/collections.js'
import memorySearch from './routes/memory-search.js'

export const PUBLIC_PATHS = ['/health', '/api/health', '/api/docs', '/api/docs/*', '/api/openapi.json']

/** The chroma-service as a plugin: decorators first (bus, Chroma client, embedder, collections, memory), then routes under /api. */
const app: FastifyPluginAsync = async (fastify) => {
  await fastify.register(authPlugin, { secret: fastify.config.JWT_SECRET, publicPaths: PUBLIC_PATHS })
  await fastify.register(busPlugin, { service: 'chroma-service' })
  await fastify.register(chromaClient)
  await fastify.register(embedder)
  await fastify.register(collectionsPlugin)
  await fastify.register(memory)
  await fastify.register(collections)
  await fastify.register(memorySearch)
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
    tags: [
      { name: 'collections', description: 'Your collections of documents and semantic queries over them' },
      { name: 'memory', description: 'Conversation memory, indexed from every thread' },
      { name: 'health', description: 'Liveness and readiness' }
    ]
  }
}
