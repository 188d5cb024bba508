import { hostname } from 'node:os'
import fp from 'fastify-plugin'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import { Kvm } from '@nats-io/kv'
import { THREADS_BUCKET, THREADS_STREAM, ensureStream, subjects } from '@skein/bus'
import { ThreadsEngine } from '../threads/engine.js'
import { memorySearchRequest } from '../threads/memory-search.js'
import { serveThreadsRpc } from '../threads/threads-rpc.js'
import { ThreadLog } from '../threads/thread-log.js'
import { ThreadStore } from '../threads/thread-store.js'
import { WorkQueue } from '../threads/work-queue.js'

declare module 'fastify' {
  interface FastifyInstance {
    threads: {
      engine: ThreadsEngine
      store: ThreadStore
      log: ThreadLog
    }
  }
}

const NS = 1_000_000_000

/**
 * `fastify.threads`: declares the thread stream, the record bucket and the work queue idempotently, makes sure
 * the main thread exists, listens for cancels, and starts this instance's workers.
 */
export default fp(async function threads (fastify) {
  const c = fastify.config
  const js = jetstream(fastify.nats)
  const jsm = await jetstreamManager(fastify.nats)
  await ensureStream(jsm, {
    name: THREADS_STREAM,
    subjects: [subjects.allThreadEvents],
    max_age: c.THREAD_EVENTS_MAX_AGE_S * NS,
    num_replicas: c.NATS_REPLICAS,
    // Long enough that a redelivered step (after ack waits and retries) still dedups its report.
    duplicate_window: c.THREADS_DEDUP_WINDOW_S * NS
  })
  const kv = await new Kvm(js).create(THREADS_BUCKET, { history: 5, replicas: c.NATS_REPLICAS })
  const store = new ThreadStore(kv, c.THREADS_NATS_RETRY_MS)
  const log = new ThreadLog(js, jsm, c.THREADS_NATS_RETRY_MS)
  const queue = new WorkQueue(js, jsm, { concurrency: c.THREADS_WORKERS, ackWaitMs: c.THREADS_ACK_WAIT_MS, maxDeliver: c.THREADS_STEP_ATTEMPTS, replicas: c.NATS_REPLICAS, retryMs: c.THREADS_NATS_RETRY_MS }, fastify.log)
  await queue.setup()
  const engine = new ThreadsEngine({
    store,
    log,
    chat: fastify.models.chat,
    enqueue: (item, msgID) => queue.enqueue(item, msgID),
    limits: {
      maxDepth: c.THREADS_MAX_DEPTH,
      maxChildren: c.THREADS_MAX_CHILDREN,
      maxThreadsPerRoot: c.THREADS_MAX_PER_ROOT,
      maxTokensPerRoot: c.THREADS_MAX_TOKENS_PER_ROOT,
      stepTimeoutMs: c.THREADS_STEP_TIMEOUT_MS
    },
    defaultModel: () => fastify.models.router.defaultModel,
    checkModel: async (model) => { await fastify.models.router.resolve(model) },
    logger: fastify.log,
    searchMemory: async (query, thread) => {
      try {
        // Searched as the place the answer is shown in may see, not as the thread's owner (see memorySearchRequest).
        const request = await memorySearchRequest(query, thread, (id) => store.get(id))
        const reply = await fastify.nats.request(subjects.memorySearch, JSON.stringify(request), { timeout: 2_000 })
        const { results } = reply.json<{ results: Array<{ text: string, score: number }> }>()
        return results.length ? results.map((x, i) => `${i + 1}. ${x.text}`).join('\n') : 'Nothing in memory matches.'
      } catch (err) {
        return `Memory is not available right now (${err instanceof Error ? err.message : String(err)}); go on without it.`
      }
    },
    abortEverywhere: (threads) => {
      if (threads.length) fastify.nats.publish(subjects.cancelThreads, JSON.stringify({ threads }))
    }
  })
  await engine.ensureMain()

  const cancels = fastify.nats.subscribe(subjects.cancelThreads, {
    callback: (err, m) => {
      if (err) return
      try {
        engine.abort((m.json<{ threads: string[] }>()).threads)
      } catch (e) {
        fastify.log.warn({ err: e }, 'bad cancel message')
      }
    }
  })
  fastify.decorate('threads', { engine, store, log })
  const rpc = serveThreadsRpc(fastify.nats, engine, fastify.log)
  const stats = fastify.nats.subscribe(subjects.statsRequest, {
    callback: (err, m) => {
      if (err) return
      const generations = Object.fromEntries(fastify.models.usage.snapshot().filter((u) => u.active > 0).map((u) => [u.model, u.active]))
      m.respond(JSON.stringify({ kind: 'openai-service', instance: `${hostname()}:${process.pid}`, generations }))
    }
  })
  queue.start(engine)

  fastify.addHook('onClose', async () => {
    cancels.unsubscribe()
    rpc.unsubscribe()
    stats.unsubscribe()
    await queue.stop()
  })
}, { name: 'threads', dependencies: ['@skein/bus', 'models'] })
