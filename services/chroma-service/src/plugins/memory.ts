import fp from 'fastify-plugin'
import { subjects } from '@skein/bus'
import type { MemorySearchRequest } from '@skein/schemas'
import { MemoryIndex } from '../memory/memory-index.js'
import { ThreadDirectory } from '../memory/thread-directory.js'
import { ThreadMemory } from '../memory/thread-memory.js'

declare module 'fastify' {
  interface FastifyInstance {
    memory: ThreadMemory
  }
}

const SCOPES = new Set(['main', 'thread', 'room'])

/**
 * `fastify.memory`: thread memory indexed from NATS (health: `memory-indexer`), and the memory search the
 * threads engine's search_memory tool asks for over NATS request/reply (`skein.memory.search`, queue group
 * `memory`): `{ query, k?, scope?, id?, thread?, user? }` → `{ results }`, or `{ results: [], error }`.
 */
export default fp(async function memory (fastify) {
  const c = fastify.config
  const directory = new ThreadDirectory(fastify.nats, { rpcTimeoutMs: c.THREADS_RPC_TIMEOUT_MS })
  const mem = new ThreadMemory(fastify.nats, new MemoryIndex(fastify.chroma, fastify.embedder, c.MEMORY_COLLECTION), directory, { batch: c.MEMORY_BATCH }, fastify.log)
  fastify.decorate('memory', mem)
  fastify.health.add('memory-indexer', () => mem.health())
  mem.start()

  const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined)
  const responder = fastify.nats.subscribe(subjects.memorySearch, {
    queue: 'memory',
    callback: (err, m) => {
      if (err) return
      void (async () => {
        try {
          const q = m.json<Partial<Record<keyof MemorySearchRequest, unknown>>>()
          if (typeof q.query !== 'string' || !q.query.trim()) throw new Error('query must be a non-empty string')
          const k = typeof q.k === 'number' && q.k >= 1 && q.k <= 50 ? Math.floor(q.k) : 5
          const scope = typeof q.scope === 'string' && SCOPES.has(q.scope) ? q.scope as MemorySearchRequest['scope'] : 'main'
          // `{ scope: 'thread', thread }` without an id: the asking thread itself.
          const id = str(q.id) ?? (scope === 'thread' ? str(q.thread) : undefined)
          const results = await mem.search({ query: q.query, k, scope, id, user: str(q.user), thread: str(q.thread) })
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
