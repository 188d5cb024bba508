import fp from 'fastify-plugin'
import { Embedder } from '../embeddings/embedder.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Embeddings through the configured backend's `/v1/embeddings` (the simulator's, offline; MODELS_CONFIG's embedding backend), batched. */
    embedder: Embedder
  }
}

/** A bad MODELS_CONFIG throws here, naming the file and the field, and the service does not start (as the openai-service does not). */
export default fp(async function embedder (fastify) {
  fastify.decorate('embedder', new Embedder(fastify.config))
}, { name: 'embedder' })
