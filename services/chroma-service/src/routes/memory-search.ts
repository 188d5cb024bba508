import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { createError } from '@skein/kit'
import { ErrorBody } from '@skein/schemas'

const MemoryUnavailableError = createError<[string]>('MEMORY_UNAVAILABLE', 'Memory search is unavailable: %s. Check GET /api/health (is Chroma up?)', 503)

const Hit = Type.Object({
  id: Type.String(),
  text: Type.String(),
  score: Type.Number({ description: 'Cosine similarity, 1 is identical' }),
  metadata: Type.Record(Type.String(), Type.Unknown())
}, { title: 'MemoryHit' })

/** `GET /api/memory/search`: the conversation memory closest to a query, in the main thread or one thread. */
const memorySearch: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/api/memory/search', {
    schema: {
      tags: ['memory'],
      summary: 'Search the conversation memory (every thread message and task result)',
      security: [{ bearerAuth: [] }],
      querystring: Type.Object({
        q: Type.String({ minLength: 1, maxLength: 2000, examples: ['tides and the moon'] }),
        scope: Type.Optional(Type.Union([Type.Literal('main'), Type.Literal('thread'), Type.Literal('room')], { default: 'main', description: 'main: everything; thread or room: one thread (id)' })),
        id: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' })),
        k: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, default: 5 }))
      }),
      response: { 200: Type.Object({ results: Type.Array(Hit) }), 400: ErrorBody, 401: ErrorBody, 503: ErrorBody }
    }
  }, async (request) => {
    const { q, scope, id, k } = request.query
    const thread = scope === 'thread' || scope === 'room' ? (id ?? 'main') : undefined
    try {
      return { results: await fastify.memory.search(q, { k: k ?? 5, ...(thread ? { thread } : {}) }) }
    } catch (err) {
      throw new MemoryUnavailableError(err instanceof Error ? err.message : String(err))
    }
  })
}
export default memorySearch
