import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ErrorBody, ModelList } from '@skein/schemas'
import { NoModelBackendError } from '../errors.js'

const models: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.get('/v1/models', {
    schema: {
      tags: ['openai'],
      summary: 'Models of the configured backend (OpenAI-compatible)',
      response: { 200: ModelList, 503: ErrorBody }
    }
  }, async () => {
    if (!fastify.openai) throw new NoModelBackendError()
    const page = await fastify.openai.models.list()
    return { object: 'list' as const, data: page.data.map((m) => ({ id: m.id, object: 'model' as const, created: m.created, owned_by: m.owned_by })) }
  })
}
export default models
