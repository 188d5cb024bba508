import fp from 'fastify-plugin'
import { subjects } from '@skein/bus'
import { ThreadMemory } from '../memory/thread-memory.js'

declare module 'fastify' {
  interface FastifyInstance {
    memory: ThreadMemory
  }
}

/**
 * `fastify.memory`: thread memory indexed from NATS, and the memory search the threads engine's
 * search_memory tool asks for over NATS request/reply (`skein.memory.search`, one queue group).
 */
export default fp(async function memory (fastify) {
  const c = fastify.config
  const mem = new ThreadMemory(fastify.nats, fastify.chroma, (texts) => fastify.embedder.embed(texts), { collection: c.MEMORY_COLLECTION, embeddingModel: fastify.embedder.model, batch: c.MEMORY_BATCH }, fastify.log)
  fastify.decorate('memory', mem)
  mem.start()

  const responder = fastify.nats.subscribe(subjects.memorySearch, {
    queue: 'memory',
    callback: (err, m) => {
      if (err) return
      void (async () => {
        try {
          const q = m.json<{ query?: unknown, k?: unknown, thread?: unknown, scope?: unknown }>()
          if (typeof q.query !== 'string' || !q.query.trim()) throw new Error('query must be a non-empty string')
          const k = typeof q.k === 'number' && q.k >= 1 && q.k <= 50 ? Math.floor(q.k) : 5
          const results = await mem.search(q.query, { k, ...(typeof q.thread === 'string' && q.scope === 'thread' ? { thread: q.thread } : {}) })
          m.respond(JSON.stringify({ results }))
        } catch (e) {
          m.respond(JSON.stringify({ results: [], error: e instanceof Error ? e.message : String(e) }))
        }
      })()
    }
  })

  fastify.addHook('onClose', async () => {
    responder.unsubscribe()
    await mem.stop()
  })
}, { name: 'memory', dependencies: ['@skein/bus', 'chroma-client', 'embedder'] })
