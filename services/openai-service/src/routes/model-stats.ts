import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { ModelUsage } from '@skein/schemas'

/** `GET /models/stats`: usage per model in this instance (requests, tokens, latency, generations under way). */
const modelStats: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/models/stats', {
    schema: {
      tags: ['models'],
      summary: 'Usage per model: requests, errors, retries, fallbacks, tokens, latency to first token, active generations',
      security: [{ bearerAuth: [] }],
      response: {
        200: Type.Object({
          defaultModel: Type.String(),
          fallbackModel: Type.Union([Type.String(), Type.Null()]),
          embeddingModel: Type.String(),
          models: Type.Array(ModelUsage)
        })
      }
    }
  }, async () => {
    const { router, usage } = fastify.models
    return { defaultModel: router.defaultModel, fallbackModel: router.fallbackModel ?? null, embeddingModel: router.embeddingModel, models: usage.snapshot() }
  })
}
export default modelStats
