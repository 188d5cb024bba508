import type { FastifyPluginAsync } from 'fastify'
import chatCompletions from './routes/chat-completions.js'
import embeddings from './routes/embeddings.js'
import models from './routes/models.js'

/** The model simulator as a plugin: the OpenAI HTTP API, answered offline and deterministically. */
const app: FastifyPluginAsync = async (fastify) => {
  await fastify.register(models)
  await fastify.register(chatCompletions)
  await fastify.register(embeddings)
}
export default app

export const definition = {
  name: 'model-simulator',
  errorPrefix: 'SIM',
  openapi: {
    title: 'Skein model simulator',
    description: 'An offline, deterministic OpenAI-compatible server. Every answer it gives is simulated.',
    uiPath: '/docs',
    specPath: '/openapi.json'
  }
}
