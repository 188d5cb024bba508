import fp from 'fastify-plugin'
import { ChatModels } from '../models/chat-stream.js'
import { ModelRouter } from '../models/model-router.js'
import { resolveModels } from '../models/models-file.js'
import { UsageMeter } from '../models/usage-meter.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The model layer: which backend serves which model, chat calls with retries and fallback, usage. */
    models: {
      router: ModelRouter
      chat: ChatModels
      usage: UsageMeter
    }
  }
}

/** `fastify.models`, and `model` in `/health` (the backend answers, which one it is, usage per model). */
export default fp(async function models (fastify) {
  const { MODEL_BACKEND, MODEL_RETRY_MAX_DELAY_MS, HEALTH_TIMEOUT_MS } = fastify.config
  const router = new ModelRouter(resolveModels(fastify.config), fastify.log)
  const usage = new UsageMeter()
  const chat = new ChatModels(router, usage, fastify.log, MODEL_RETRY_MAX_DELAY_MS)
  fastify.decorate('models', { router, chat, usage })

  fastify.health.add('model', async () => {
    const first = router.backends[0]
    if (!first) {
      return { status: 'down', message: 'no model backend: set OPENAI_API_KEY (or OPENAI_BASE_URL), or run `npm start`, which starts the offline simulator' }
    }
    await first.client.models.list({ timeout: HEALTH_TIMEOUT_MS, maxRetries: 0 })
    return {
      status: 'up',
      message: MODEL_BACKEND === 'simulator' ? 'offline model simulator (answers are simulated)' : `OpenAI-compatible backend at ${first.client.baseURL}`,
      details: {
        kind: MODEL_BACKEND,
        backends: router.backends.map((b) => ({ name: b.name, baseURL: b.client.baseURL, models: b.models })),
        defaultModel: router.defaultModel,
        fallbackModel: router.fallbackModel ?? null,
        usage: usage.snapshot()
      }
    }
  })
}, { name: 'models', dependencies: ['@skein/kit/health'] })
