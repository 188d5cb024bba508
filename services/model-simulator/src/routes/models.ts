import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ModelList } from '@skein/schemas'

const CREATED = 1_767_225_600 // 2026-01-01: fixed, so answers are deterministic

export function modelList (ids: string[]): ModelList {
  return { object: 'list', data: ids.map((id) => ({ id, object: 'model' as const, created: CREATED, owned_by: 'skein-simulator' })) }
}

const models: FastifyPluginAsyncTypebox = async (fastify) => {
  const { SIM_MODELS, SIM_EMBEDDING_MODEL, SIM_SPEECH_MODEL, SIM_IMAGE_MODEL } = fastify.config
  const ids = [...SIM_MODELS.split(',').map((m) => m.trim()).filter(Boolean), SIM_EMBEDDING_MODEL, SIM_SPEECH_MODEL, SIM_IMAGE_MODEL]
  fastify.get('/v1/models', {
    schema: { tags: ['models'], summary: 'The simulated models', response: { 200: ModelList } }
  }, async () => modelList(ids))
}
export default models
