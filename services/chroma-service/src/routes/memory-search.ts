import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ErrorBody, MemorySearchQuery, MemorySearchReply } from '@skein/schemas'
import { chromaFailure } from '../collections/chroma-errors.js'

/**
 * `GET /api/memory/search`: the conversation memory closest to a query, among what the caller may read (public
 * memory and the private rooms they own or belong to): everything (main), one thread, or one room.
 */
const memorySearch: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/api/memory/search', {
    schema: {
      tags: ['memory'],
      summary: 'Search the conversation memory (every thread message and task result)',
      security: [{ bearerAuth: [] }],
      querystring: MemorySearchQuery,
      response: { 200: MemorySearchReply, 400: ErrorBody, 401: ErrorBody, 409: ErrorBody, 422: ErrorBody, 503: ErrorBody }
    }
  }, async (request) => {
    const { q, scope, id, k } = request.query
    try {
      return { results: await fastify.memory.search({ query: q, k: k ?? 5, scope, id, user: request.user! }) }
    } catch (err) {
      throw chromaFailure(err, fastify.config.CHROMA_TIMEOUT_MS)
    }
  })
}
export default memorySearch
