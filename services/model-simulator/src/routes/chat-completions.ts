import { randomUUID } from 'node:crypto'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ChatCompletion, ChatCompletionRequest, ErrorBody, type ChatCompletionChunk, type Usage } from '@skein/schemas'
import { composeReply, messageText, tokenize } from '../chat-reply.js'
import { countTokens } from '../text.js'

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

const chatCompletions: FastifyPluginAsyncTypebox = async (fastify) => {
  const { SIM_MODELS, SIM_TOKENS_PER_SECOND } = fastify.config
  const models = SIM_MODELS.split(',').map((m) => m.trim()).filter(Boolean)

  fastify.post('/v1/chat/completions', {
    schema: {
      tags: ['chat'],
      summary: 'A deterministic simulated chat completion, streamed word by word or whole',
      body: ChatCompletionRequest,
      response: { 200: ChatCompletion, 404: ErrorBody }
    }
  }, async (request, reply) => {
    const body = request.body
    if (!models.includes(body.model)) {
      return reply.code(404).send({ error: { code: 'model_not_found', message: `The model '${body.model}' does not exist; the simulator serves ${models.join(', ')}` } })
    }
    const all = tokenize(composeReply(body.messages))
    const limit = body.max_completion_tokens ?? body.max_tokens ?? Infinity
    const tokens = all.slice(0, limit)
    const finishReason = tokens.length < all.length ? 'length' : 'stop'
    const usage: Usage = {
      prompt_tokens: body.messages.reduce((n, m) => n + countTokens(messageText(m)), 0),
      completion_tokens: tokens.length,
      total_tokens: 0
    }
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens
    const id = `chatcmpl-sim-${randomUUID()}`
    const created = Math.floor(Date.now() / 1000)

    if (!body.stream) {
      return {
        id,
        object: 'chat.completion' as const,
        created,
        model: body.model,
        choices: [{ index: 0, message: { role: 'assistant' as const, content: tokens.join('') }, finish_reason: finishReason }],
        usage
      }
    }

    reply.hijack()
    const raw = reply.raw
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-request-id': request.id
    })
    let closed = false
    raw.on('close', () => { closed = true })
    const send = (chunk: ChatCompletionChunk | '[DONE]'): void => {
      raw.write(`data: ${typeof chunk === 'string' ? chunk : JSON.stringify(chunk)}\n\n`)
    }
    const chunk = (delta: ChatCompletionChunk['choices'][number]['delta'], finish: string | null): ChatCompletionChunk =>
      ({ id, object: 'chat.completion.chunk', created, model: body.model, choices: [{ index: 0, delta, finish_reason: finish }] })
    const interval = SIM_TOKENS_PER_SECOND > 0 ? 1000 / SIM_TOKENS_PER_SECOND : 0

    send(chunk({ role: 'assistant', content: '' }, null))
    for (const token of tokens) {
      if (closed) return
      if (interval) await sleep(interval)
      send(chunk({ content: token }, null))
    }
    if (closed) return
    send(chunk({}, finishReason))
    if (body.stream_options?.include_usage) send({ id, object: 'chat.completion.chunk', created, model: body.model, choices: [], usage })
    send('[DONE]')
    raw.end()
  })
}
export default chatCompletions
