import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { EmbeddingsRequest, EmbeddingsResponse } from '@skein/schemas'
import type { FaultInjector } from '../fault-injector.js'
import { errorResponses, modelNotFound } from '../openai-error.js'
import { countTokens, hash32, words } from '../text.js'

/**
 * Feature hashing of words and word pairs into a fixed number of dimensions, L2-normalised: texts that share
 * words are close, texts that share none are nearly orthogonal. Deterministic, offline.
 */
export function embed (text: string, dimensions: number): Float32Array {
  const v = new Float32Array(dimensions)
  const w = words(text)
  const add = (feature: string, weight: number): void => {
    const h = hash32(feature)
    v[h % dimensions]! += (h & 0x80000000) !== 0 ? -weight : weight
  }
  for (let i = 0; i < w.length; i++) {
    add(`w:${w[i]}`, 1)
    if (i + 1 < w.length) add(`p:${w[i]} ${w[i + 1]}`, 0.5)
  }
  let norm = 0
  for (const x of v) norm += x * x
  norm = Math.sqrt(norm)
  if (norm > 0) for (let i = 0; i < v.length; i++) v[i]! /= norm
  return v
}

const embeddings: FastifyPluginAsyncTypebox<{ faults: FaultInjector }> = async (fastify, { faults }) => {
  const { SIM_EMBEDDING_MODEL, SIM_EMBEDDING_DIMENSIONS } = fastify.config
  fastify.post('/v1/embeddings', {
    schema: {
      tags: ['embeddings'],
      summary: 'Deterministic offline embeddings (feature hashing)',
      body: EmbeddingsRequest,
      response: { 200: EmbeddingsResponse, ...errorResponses }
    }
  }, async (request, reply) => {
    const body = request.body
    if (body.model !== SIM_EMBEDDING_MODEL) return reply.code(404).send(modelNotFound(body.model, [SIM_EMBEDDING_MODEL]))
    const fault = await faults.intercept(request, reply, { model: body.model, stream: false })
    if (fault.answered) return reply
    const inputs = typeof body.input === 'string' ? [body.input] : body.input
    const dims = body.dimensions ?? SIM_EMBEDDING_DIMENSIONS
    const tokens = inputs.reduce((n, t) => n + countTokens(t), 0)
    return {
      object: 'list' as const,
      model: SIM_EMBEDDING_MODEL,
      data: inputs.map((text, index) => {
        const v = embed(text, dims)
        return {
          object: 'embedding' as const,
          index,
          embedding: body.encoding_format === 'base64' ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') : Array.from(v)
        }
      }),
      usage: { prompt_tokens: tokens, total_tokens: tokens }
    }
  })
}
export default embeddings
