import type { FastifyPluginAsync } from 'fastify'
import { FaultInjector } from './fault-injector.js'
import audioSpeech from './routes/audio-speech.js'
import chatCompletions from './routes/chat-completions.js'
import embeddings from './routes/embeddings.js'
import images from './routes/images.js'
import models from './routes/models.js'

/** The model simulator as a plugin: the OpenAI HTTP API, answered offline and deterministically. */
const app: FastifyPluginAsync = async (fastify) => {
  // One fault injector for the process: SIM_FAULT is checked here, so a bad value stops the boot.
  const faults = new FaultInjector(fastify.config.SIM_FAULT)
  fastify.addHook('preClose', async () => faults.releaseHeld())

  await fastify.register(models)
  await fastify.register(chatCompletions, { faults })
  await fastify.register(embeddings, { faults })
  await fastify.register(audioSpeech, { faults })
  await fastify.register(images, { faults })
}
export default app

export const definition = {
  name: 'model-simulator',
  errorPrefix: 'SIM',
  openapi: {
    title: 'Skein model simulator',
    description: 'An offline, deterministic OpenAI-compatible server. Every answer it gives is simulated. ' +
      'Faults (latency, error statuses, hangs, cut streams) can be injected per request with the `x-sim-fault` header or per process with SIM_FAULT.',
    uiPath: '/docs',
    specPath: '/openapi.json'
  }
}
