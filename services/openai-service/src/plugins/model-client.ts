import fp from 'fastify-plugin'
import OpenAI from 'openai'

declare module 'fastify' {
  interface FastifyInstance {
    /** The `openai` SDK client for the configured backend, or null when none is configured. */
    openai: OpenAI | null
  }
}

/**
 * `fastify.openai`: one SDK client with explicit timeouts and bounded retries (the SDK's defaults, a
 * 10-minute timeout retried twice, are wrong for a live service); `model` in `/health`.
 */
export default fp(async function modelClient (fastify) {
  const { OPENAI_API_KEY, OPENAI_BASE_URL, MODEL_BACKEND, MODEL_TIMEOUT_MS, MODEL_MAX_RETRIES, HEALTH_TIMEOUT_MS } = fastify.config
  const configured = Boolean(OPENAI_API_KEY || OPENAI_BASE_URL)
  const client = configured
    ? new OpenAI({
      apiKey: OPENAI_API_KEY ?? 'none',
      ...(OPENAI_BASE_URL ? { baseURL: OPENAI_BASE_URL } : {}),
      timeout: MODEL_TIMEOUT_MS,
      maxRetries: MODEL_MAX_RETRIES
    })
    : null
  fastify.decorate('openai', client)

  const backend = { kind: MODEL_BACKEND, baseURL: client?.baseURL ?? null }
  fastify.health.add('model', async () => {
    if (!client) {
      return { status: 'down', message: 'no model backend: set OPENAI_API_KEY (or OPENAI_BASE_URL), or run `npm start`, which starts the offline simulator' }
    }
    await client.models.list({ timeout: HEALTH_TIMEOUT_MS, maxRetries: 0 })
    return { status: 'up', message: MODEL_BACKEND === 'simulator' ? 'offline model simulator (answers are simulated)' : `OpenAI-compatible backend at ${client.baseURL}`, details: backend }
  })
}, { name: 'model-client', dependencies: ['@skein/kit/health'] })
