import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type, type Static } from 'typebox'
import type { FaultInjector } from '../fault-injector.js'
import { errorResponses, modelNotFound } from '../openai-error.js'
import { SPEECH_SAMPLE_RATE, synthesizeSpeech } from '../speech-synth.js'
import { encodeWav, pcmBytes } from '../wav.js'

/** Model names OpenAI clients use for speech, answered by the simulator's own speech model. */
export const SPEECH_ALIASES = ['tts-1', 'gpt-4o-mini-tts'] as const

export const SpeechRequest = Type.Object({
  model: Type.String({ minLength: 1, examples: ['skein-sim-tts'] }),
  input: Type.String({ minLength: 1, maxLength: 4096, description: 'The text to speak' }),
  voice: Type.Union([Type.String({ minLength: 1 }), Type.Object({ id: Type.String({ minLength: 1 }) })], { description: 'A voice name, or a custom voice id; each sounds different' }),
  instructions: Type.Optional(Type.String()),
  response_format: Type.Optional(Type.Union([Type.Literal('mp3'), Type.Literal('opus'), Type.Literal('aac'), Type.Literal('flac'), Type.Literal('wav'), Type.Literal('pcm')], {
    description: '`pcm` is raw 16-bit 24 kHz mono; every other format is answered as WAV, and the content-type says so'
  })),
  speed: Type.Optional(Type.Number({ minimum: 0.25, maximum: 4, default: 1 })),
  stream_format: Type.Optional(Type.Literal('audio'))
}, { additionalProperties: true, title: 'SpeechRequest' })
export type SpeechRequest = Static<typeof SpeechRequest>

const Audio = Type.Unsafe<Buffer>({ type: 'string', format: 'binary' })
const AudioResponse = {
  description: 'audio/wav (RIFF, PCM 16-bit mono, 24 kHz) for every response_format but pcm, which is raw audio/pcm',
  content: { 'audio/wav': { schema: Audio }, 'audio/pcm': { schema: Audio } }
}

const audioSpeech: FastifyPluginAsyncTypebox<{ faults: FaultInjector }> = async (fastify, { faults }) => {
  const models = [fastify.config.SIM_SPEECH_MODEL, ...SPEECH_ALIASES]
  fastify.post('/v1/audio/speech', {
    schema: {
      tags: ['audio'],
      summary: 'Simulated speech: a WAV of tones, one run per word, about 0.35 s a word',
      description: 'Deterministic for a given input, voice and speed; at least 0.5 s and at most 60 s long.',
      body: SpeechRequest,
      response: { 200: AudioResponse, ...errorResponses }
    }
  }, async (request, reply) => {
    const body = request.body
    if (!models.includes(body.model)) return reply.code(404).send(modelNotFound(body.model, models))
    const fault = await faults.intercept(request, reply, { model: body.model, stream: false })
    if (fault.answered) return reply
    const voice = typeof body.voice === 'string' ? body.voice : body.voice.id
    const samples = synthesizeSpeech(body.input, voice, body.speed ?? 1, SPEECH_SAMPLE_RATE)
    if (body.response_format === 'pcm') return reply.type('audio/pcm').send(pcmBytes(samples))
    if (body.response_format !== undefined && body.response_format !== 'wav') reply.header('x-sim-audio-format', `wav (asked for ${body.response_format})`)
    return reply.type('audio/wav').send(encodeWav(samples, SPEECH_SAMPLE_RATE))
  })
}
export default audioSpeech
