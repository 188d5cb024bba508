import { Readable } from 'node:stream'
import type { ReadableStream as WebReadableStream } from 'node:stream/web'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { createError } from '@skein/kit'
import { ErrorBody, MediaItem } from '@skein/schemas'
import { BackendError } from '../errors.js'

const MediaNotFoundError = createError<[string]>('OPENAI_MEDIA_NOT_FOUND', 'No media item %s', 404)
const MediaTooLargeError = createError<[number]>('OPENAI_MEDIA_TOO_LARGE', 'The backend answered with more than %d bytes (MEDIA_MAX_BYTES)', 502)

const SIZES = ['256x256', '512x512', '1024x1024', '1024x1792', '1792x1024'] as const
const errors = { 400: ErrorBody, 401: ErrorBody, 502: ErrorBody, 503: ErrorBody, 504: ErrorBody }

/**
 * `POST /speech` and `POST /images` make media with the configured models and store it; the answer is a media
 * item whose `url` (`GET /media/:id`) serves the bytes through the funnel, for the web app to play or show.
 */
const media: FastifyPluginAsyncTypebox = async (fastify) => {
  const { router } = fastify.models
  const simulated = fastify.config.MODEL_BACKEND === 'simulator'
  const speechModel = fastify.config.SPEECH_MODEL ?? (simulated ? 'skein-sim-tts' : 'gpt-4o-mini-tts')
  const imageModel = fastify.config.IMAGE_MODEL ?? (simulated ? 'skein-sim-image' : 'gpt-image-1')
  const maxBytes = fastify.config.MEDIA_MAX_BYTES

  const call = async <T>(backend: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn()
    } catch (err) {
      throw new BackendError(backend, err instanceof Error ? err.message : String(err))
    }
  }

  fastify.post('/speech', {
    schema: {
      tags: ['media'],
      summary: 'Text to speech, stored as a media item (audio)',
      security: [{ bearerAuth: [] }],
      body: Type.Object({
        text: Type.String({ minLength: 1, maxLength: 4096, examples: ['Hello from Skein'] }),
        voice: Type.Optional(Type.String({ minLength: 1, maxLength: 32, default: 'alloy' })),
        model: Type.Optional(Type.String({ minLength: 1 }))
      }, { additionalProperties: false }),
      response: { 201: MediaItem, ...errors }
    }
  }, async (request, reply) => {
    const model = request.body.model ?? speechModel
    const backend = await router.resolve(model)
    const res = await call(backend.name, () => backend.client.audio.speech.create({ model, input: request.body.text, voice: request.body.voice ?? 'alloy', response_format: 'wav' }))
    const bytes = new Uint8Array(await res.arrayBuffer())
    if (bytes.byteLength > maxBytes) throw new MediaTooLargeError(maxBytes)
    const mime = res.headers.get('content-type')?.split(';')[0] ?? 'audio/wav'
    return reply.code(201).send(await fastify.media.put('audio', mime, bytes, { owner: request.user ?? 'unknown', model }))
  })

  fastify.post('/images', {
    schema: {
      tags: ['media'],
      summary: 'An image from a prompt, stored as a media item (PNG)',
      security: [{ bearerAuth: [] }],
      body: Type.Object({
        prompt: Type.String({ minLength: 1, maxLength: 4000, examples: ['A lighthouse at dusk'] }),
        size: Type.Optional(Type.Union(SIZES.map((s) => Type.Literal(s)), { default: '1024x1024' })),
        model: Type.Optional(Type.String({ minLength: 1 }))
      }, { additionalProperties: false }),
      response: { 201: MediaItem, ...errors }
    }
  }, async (request, reply) => {
    const model = request.body.model ?? imageModel
    const backend = await router.resolve(model)
    const res = await call(backend.name, () => backend.client.images.generate({ model, prompt: request.body.prompt, size: request.body.size ?? '1024x1024', n: 1, response_format: 'b64_json' }))
    const b64 = res.data?.[0]?.b64_json
    if (!b64) throw new BackendError(backend.name, 'the answer held no image')
    const bytes = Buffer.from(b64, 'base64')
    if (bytes.byteLength > maxBytes) throw new MediaTooLargeError(maxBytes)
    return reply.code(201).send(await fastify.media.put('image', 'image/png', bytes, { owner: request.user ?? 'unknown', model }))
  })

  fastify.get('/media/:id', {
    schema: {
      tags: ['media'],
      summary: 'The bytes of a media item (browsers may pass ?token=)',
      security: [{ bearerAuth: [] }],
      params: Type.Object({ id: Type.String({ pattern: '^[0-9a-f-]{36}$', examples: ['3f0e1c9a-5b1d-4b8e-9a44-2e4c8b7d9f10'] }) }),
      querystring: Type.Object({ token: Type.Optional(Type.String()) }),
      response: { 200: Type.Unknown({ description: 'The bytes, with the item\'s content type (audio/wav, image/png)' }), 404: ErrorBody }
    }
  }, async (request, reply) => {
    const stored = await fastify.media.get(request.params.id)
    if (!stored) throw new MediaNotFoundError(request.params.id)
    return reply
      .header('content-type', stored.item.mime)
      .header('content-length', stored.item.size)
      .header('cache-control', 'private, max-age=31536000, immutable')
      .send(Readable.fromWeb(stored.data as unknown as WebReadableStream<Uint8Array>))
  })
}
export default media
