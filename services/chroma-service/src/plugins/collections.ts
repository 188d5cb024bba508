import fp from 'fastify-plugin'
import { CollectionStore } from '../collections/collection-store.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Users' collections in Chroma, scoped per owner or shared. */
    collections: CollectionStore
  }
}

export default fp(async function collections (fastify) {
  fastify.decorate('collections', new CollectionStore(fastify.chroma, fastify.embedder, { upsertBatch: fastify.config.UPSERT_BATCH, chromaTimeoutMs: fastify.config.CHROMA_TIMEOUT_MS }))
}, { name: 'collections', dependencies: ['chroma-client', 'embedder'] })
