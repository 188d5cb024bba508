import { randomUUID } from 'node:crypto'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponse, startEventStream, type ServiceError } from '@skein/kit'
import {
  ChatCompletion,
  ChatCompletionRequest,
  EmbeddingsRequest,
  EmbeddingsResponse,
  ModelList,
  OpenAIErrorBody,
  type ChatCompletionChunk
} from '@skein/schemas'
import type { ChatEvent, ChatResult } from '../models/chat-stream.js'
import { BackendError } from '../errors.js'

const OPENAI_ERROR_TYPE: Record<number, string> = { 400: 'invalid_request_error', 401: 'authentication_error', 403: 'permission_error', 404: 'not_found_error', 409: 'conflict_error', 413: 'invalid_request_error', 429: 'rate_limit_error' }

/** The field a validation error is about, as OpenAI's `param`: "messages", "messages.0.role". */
function paramOf (err: ServiceError): string | null {
  const first = err.validation?.[0]
  if (!first) return null
  const missing = (first.params as { missingProperty?: string } | undefined)?.missingProperty
  const path = [...first.instancePath.split('/').filter(Boolean), ...(missing ? [missing] : [])]
  return path.length ? path.join('.') : null
}

const errors = { 400: OpenAIErrorBody, 401: OpenAIErrorBody, 429: OpenAIErrorBody, 502: OpenAIErrorBody, 503: OpenAIErrorBody, 504: OpenAIErrorBody }

// OpenAPI examples: what the simulator answers (`npm start` without a key).
const modelListExample = {
  object: 'list',
  data: [
    { id: 'skein-sim-1', object: 'model', created: 0, owned_by: 'default' },
    { id: 'skein-sim-mini', object: 'model', created: 0, owned_by: 'default' },
    { id: 'skein-sim-embed', object: 'model', created: 0, owned_by: 'default' }
  ]
}
const chatRequestExample = { model: 'skein-sim-1', messages: [{ role: 'user', content: 'What should I know about tides and the moon?' }], stream: true, stream_options: { include_usage: true } }
const chatCompletionExample = {
  id: 'chatcmpl-6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f',
  object: 'chat.completion',
  created: 1764000000,
  model: 'skein-sim-1',
  choices: [{ index: 0, message: { role: 'assistant', content: '[simulated] Tides rise and fall twice a day as the moon pulls on the oceans.' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 12, completion_tokens: 18, total_tokens: 30 }
}
const embeddingsRequestExample = { model: 'skein-sim-embed', input: ['ocean tides and the moon', 'tax forms'] }
const embeddingsExample = {
  object: 'list',
  model: 'skein-sim-embed',
  data: [
    { object: 'embedding', index: 0, embedding: [0.0312, -0.1187, 0.0045] },
    { object: 'embedding', index: 1, embedding: [-0.0921, 0.0216, 0.1408] }
  ],
  usage: { prompt_tokens: 7, total_tokens: 7 }
}

/**
 * The OpenAI-compatible surface: `GET /v1/models`, `POST /v1/chat/completions` (stream and not),
 * `POST /v1/embeddings`. The official `openai` SDK works against it unchanged; errors come in OpenAI's own
 * shape (with Skein's code), so SDK users see a normal APIError.
 */
const openaiCompatible: FastifyPluginAsyncTypebox = async (fastify) => {
  const { router, chat } = fastify.models

  fastify.setErrorHandler<ServiceError>(function (err, request, reply) {
    const { status, body } = errorResponse(err, request, 'OPENAI')
    if (err.headers) reply.headers(err.headers)
    return reply.code(status).send({ error: { ...body.error, type: OPENAI_ERROR_TYPE[status] ?? 'api_error', param: paramOf(err) } })
  })

  fastify.get('/v1/models', {
    schema: {
      tags: ['openai'],
      summary: 'The models requests may name, from every configured backend',
      security: [{ bearerAuth: [] }],
      response: { 200: { ...ModelList, examples: [modelListExample] }, ...errors }
    }
  }, async () => {
    const models = await router.list()
    return { object: 'list' as const, data: models.map((m) => ({ id: m.id, object: 'model' as const, created: 0, owned_by: m.backend })) }
  })

  fastify.post('/v1/chat/completions', {
    schema: {
      tags: ['openai'],
      summary: 'A chat completion, streamed (SSE, `data: [DONE]`) or whole',
      description: 'Retries 429/5xx before the first token (honouring Retry-After), falls back to the fallback model, and ends a stream that fails mid-answer with finish_reason "error" and an error event.',
      security: [{ bearerAuth: [] }],
      body: { ...ChatCompletionRequest, examples: [chatRequestExample] },
      response: { 200: { ...ChatCompletion, description: 'The whole completion; with `stream: true`, the same as `chat.completion.chunk` events (text/event-stream) ending with `data: [DONE]`', examples: [chatCompletionExample] }, ...errors }
    }
  }, async (request, reply) => {
    const { model, messages, stream, stream_options: streamOptions, ...params } = request.body
    const controller = new AbortController()
    reply.raw.on('close', () => { if (!reply.raw.writableFinished) controller.abort() })
    const events = chat.stream({ model, messages, params, signal: controller.signal })
    const id = `chatcmpl-${randomUUID()}`
    const created = Math.floor(Date.now() / 1000)

    if (!stream) {
      let result: ChatResult | undefined
      for await (const e of events) if (e.type === 'end') result = e.result
      if (!result || result.finishReason === 'error') throw new BackendError(result?.backend ?? 'none', result?.error?.message ?? 'no answer')
      return {
        id,
        object: 'chat.completion' as const,
        created,
        model: result.model,
        choices: [{
          index: 0,
          message: { role: 'assistant' as const, content: result.toolCalls.length && !result.text ? null : result.text, ...(result.toolCalls.length ? { tool_calls: result.toolCalls } : {}) },
          finish_reason: result.finishReason
        }],
        usage: result.usage
      }
    }

    // Nothing is sent until the answer has started, so a model that never starts is an HTTP error.
    const iterator = events[Symbol.asyncIterator]()
    const first = await iterator.next()
    const raw = startEventStream(reply)
    const answering = model ?? router.defaultModel
    const send = (data: unknown): void => { if (!raw.destroyed) raw.write(`data: ${JSON.stringify(data)}\n\n`) }
    const chunk = (delta: ChatCompletionChunk['choices'][number]['delta'], finish: string | null, m = answering): ChatCompletionChunk =>
      ({ id, object: 'chat.completion.chunk', created, model: m, choices: [{ index: 0, delta, finish_reason: finish }] })
    const write = (e: ChatEvent): void => {
      if (e.type === 'token') send(chunk({ content: e.text }, null))
      else if (e.type === 'tool_call') {
        send(chunk({ tool_calls: [{ index: e.index, ...(e.id ? { id: e.id, type: 'function' } : {}), function: { ...(e.name ? { name: e.name } : {}), ...(e.arguments ? { arguments: e.arguments } : {}) } }] }, null))
      } else {
        const r = e.result
        send(chunk({}, r.finishReason, r.model))
        if (streamOptions?.include_usage) send({ id, object: 'chat.completion.chunk', created, model: r.model, choices: [], usage: r.usage })
        if (r.error) send({ error: { ...r.error, type: 'api_error', param: null } })
      }
    }
    send(chunk({ role: 'assistant', content: '' }, null))
    try {
      if (!first.done) write(first.value)
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) write(next.value)
    } catch (err) {
      request.log.error({ err }, 'chat stream failed')
      send(chunk({}, 'error'))
      send({ error: { code: 'OPENAI_STREAM_INTERRUPTED', message: 'The answer stopped unexpectedly; retry the request', type: 'api_error', param: null } })
    }
    if (!raw.destroyed) raw.end('data: [DONE]\n\n')
  })

  fastify.post('/v1/embeddings', {
    schema: {
      tags: ['openai'],
      summary: 'Embeddings from the configured embedding model (or the one named)',
      security: [{ bearerAuth: [] }],
      body: { ...EmbeddingsRequest, examples: [embeddingsRequestExample] },
      response: { 200: { ...EmbeddingsResponse, description: 'One vector per input (shortened to three numbers in this example)', examples: [embeddingsExample] }, ...errors }
    }
  }, async (request) => {
    const model = request.body.model || router.embeddingModel
    const backend = await router.resolve(model)
    try {
      const res = await backend.client.embeddings.create({ ...request.body, model, encoding_format: request.body.encoding_format ?? 'float' })
      return { object: 'list' as const, model: res.model, data: res.data.map((d) => ({ object: 'embedding' as const, index: d.index, embedding: d.embedding })), usage: res.usage }
    } catch (err) {
      throw new BackendError(backend.name, err instanceof Error ? err.message : String(err))
    }
  })
}
export default openaiCompatible
