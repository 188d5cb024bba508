import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type, type Static } from 'typebox'
import type { FaultInjector } from '../fault-injector.js'
import { errorResponses, modelNotFound } from '../openai-error.js'
import { drawPicture } from '../picture.js'
import { encodePng } from '../png.js'

/** Model names OpenAI clients use for images, answered by the simulator's own image model. */
export const IMAGE_ALIASES = ['dall-e-3', 'gpt-image-1'] as const

export const ImageSize = Type.Union([
  Type.Literal('256x256'), Type.Literal('512x512'), Type.Literal('1024x1024'), Type.Literal('1024x1792'), Type.Literal('1792x1024'),
  Type.Literal('1024x1536'), Type.Literal('1536x1024'), Type.Literal('auto')
], { default: '1024x1024', description: '"auto" is 1024x1024' })

export const ImageRequest = Type.Object({
  prompt: Type.String({ minLength: 1, maxLength: 32_000 }),
  model: Type.Optional(Type.String({ minLength: 1, examples: ['skein-sim-image'] })),
  n: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 10 }), Type.Null()])),
  size: Type.Optional(Type.Union([ImageSize, Type.Null()])),
  response_format: Type.Optional(Type.Union([Type.Literal('b64_json'), Type.Literal('url'), Type.Null()], {
    description: 'The simulator has nowhere to host images: it always answers b64_json, even when url is asked for'
  }))
}, { additionalProperties: true, title: 'ImageRequest' })
export type ImageRequest = Static<typeof ImageRequest>

export const ImagesResponse = Type.Object({
  created: Type.Integer(),
  data: Type.Array(Type.Object({
    b64_json: Type.String({ description: 'A PNG, base64' }),
    revised_prompt: Type.String()
  })),
  size: Type.String(),
  output_format: Type.Literal('png')
}, { title: 'ImagesResponse' })
export type ImagesResponse = Static<typeof ImagesResponse>

const images: FastifyPluginAsyncTypebox<{ faults: FaultInjector }> = async (fastify, { faults }) => {
  const { SIM_IMAGE_MODEL } = fastify.config
  const models = [SIM_IMAGE_MODEL, ...IMAGE_ALIASES]
  fastify.post('/v1/images/generations', {
    schema: {
      tags: ['images'],
      summary: 'A simulated picture: a gradient and shapes seeded by the prompt, with the prompt written on it',
      description: 'Always PNG, always b64_json (a `url` response_format is answered as b64_json too). The same prompt ' +
        'and size give the same bytes.',
      body: ImageRequest,
      response: { 200: ImagesResponse, ...errorResponses }
    }
  }, async (request, reply) => {
    const body = request.body
    const model = body.model ?? SIM_IMAGE_MODEL
    if (!models.includes(model)) return reply.code(404).send(modelNotFound(model, models))
    const fault = await faults.intercept(request, reply, { model, stream: false })
    if (fault.answered) return reply
    const size = !body.size || body.size === 'auto' ? '1024x1024' : body.size
    const [width, height] = size.split('x').map(Number) as [number, number]
    const data = Array.from({ length: body.n ?? 1 }, (_, i) => {
      const picture = drawPicture(body.prompt, width, height, i)
      return {
        b64_json: encodePng(width, height, picture.pixels).toString('base64'),
        revised_prompt: `[simulated] A generated picture for: ${body.prompt}`
      }
    })
    return { created: Math.floor(Date.now() / 1000), data, size, output_format: 'png' as const }
  })
}
export default images
