import type { FastifyPluginAsync } from 'fastify'
import { busPlugin } from '@skein/bus'
import { authPlugin } from '@skein/kit'
import modelClient from './plugins/model-client.js'
import auth from './routes/auth.js'
import models from './routes/models.js'

export const PUBLIC_PATHS = ['/health', '/docs', '/docs/*', '/openai.json', '/auth/token']

/** The openai-service as a plugin: decorators first (bus, model client), then routes. */
const app: FastifyPluginAsync = async (fastify) => {
  await fastify.register(authPlugin, { secret: fastify.config.JWT_SECRET, publicPaths: PUBLIC_PATHS })
  await fastify.register(busPlugin, { service: 'openai-service' })
  await fastify.register(modelClient)
  await fastify.register(auth)
  await fastify.register(models)
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
      { name: 'health', description: 'Liveness and readiness' }
    ]
  }
}
