import fp from 'fastify-plugin'
import { Embedder } from '../embeddings/embedder.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Embeddings through the configured backend's `/v1/embeddings` (the simulator's, offline), batched. */
    embedder: Embedder
  }
}

export default fp(async function embedder (fastify) {
  fastify.decorate('embedder', new Embedder(fastify.config))
}, { name: 'embedder' })
