import type { FastifyPluginAsync } from 'fastify'
import { busPlugin } from '@skein/bus'
import { authPlugin } from '@skein/kit'
import mediaStore from './plugins/media-store.js'
import models from './plugins/models.js'
import threadsEngine from './plugins/threads.js'
import auth from './routes/auth.js'
import media from './routes/media.js'
import modelStats from './routes/model-stats.js'
import openaiCompatible from './routes/openai-compatible.js'
import threads from './routes/threads.js'

export const PUBLIC_PATHS = ['/health', '/docs', '/docs/*', '/openai.json', '/auth/token']

/** The openai-service as a plugin: auth and decorators first (bus, models, media store, threads engine), then routes. */
const app: FastifyPluginAsync = async (fastify) => {
  await fastify.register(authPlugin, { secret: fastify.config.JWT_SECRET, publicPaths: PUBLIC_PATHS })
  await fastify.register(busPlugin, { service: 'openai-service' })
  await fastify.register(models)
  await fastify.register(mediaStore)
  await fastify.register(threadsEngine)
  await fastify.register(auth)
  await fastify.register(openaiCompatible)
  await fastify.register(modelStats)
  await fastify.register(media)
  await fastify.register(threads)
}
export default app

export const definition = {
  name: 'openai-service',
  errorPrefix: 'OPENAI',
  openapi: {
    title: 'Skein openai-service',
    description: 'Models through the openai SDK against any OpenAI-compatible server, an OpenAI-compatible /v1 surface, and the threads engine.',
    uiPath: '/docs',
    specPath: '/openai.json',
    tags: [
      { name: 'auth', description: 'Tokens' },
      { name: 'openai', description: 'The OpenAI-compatible surface' },
      { name: 'models', description: 'The model layer: backends and usage' },
      { name: 'media', description: 'Speech and images' },
      { name: 'threads', description: 'The main thread, tasks broken into step threads, messages and events' },
      { name: 'health', description: 'Liveness and readiness' }
    ]
  }
}
