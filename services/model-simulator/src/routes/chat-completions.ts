import { randomUUID } from 'node:crypto'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { startEventStream } from '@skein/kit'
import { ChatCompletion, type Usage } from '@skein/schemas'
import { answerChat } from '../chat-answer.js'
import { tokenize, messageText } from '../chat-reply.js'
import { SimChatRequest } from '../chat-request.js'
import type { FaultInjector } from '../fault-injector.js'
import { errorResponses, modelNotFound } from '../openai-error.js'
import { countTokens } from '../text.js'

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** A streamed chunk's delta: text, or pieces of a tool call. */
interface Delta {
  role?: 'assistant'
  content?: string | null
  tool_calls?: Array<{ index: number, id?: string, type?: 'function', function: { name?: string, arguments: string } }>
}

interface Chunk {
  id: string
  object: 'chat.completion.chunk'
  created: number
  model: string
  choices: Array<{ index: number, delta: Delta, finish_reason: string | null }>
  usage?: Usage
}

/** Splits tool-call arguments into stream pieces of a few characters, as OpenAI streams them. */
const argumentPieces = (json: string): string[] => json.match(/[\s\S]{1,8}/g) ?? []

const chatCompletions: FastifyPluginAsyncTypebox<{ faults: FaultInjector }> = async (fastify, { faults }) => {
  const { SIM_MODELS, SIM_TOKENS_PER_SECOND } = fastify.config
  const models = SIM_MODELS.split(',').map((m) => m.trim()).filter(Boolean)

  fastify.post('/v1/chat/completions', {
    schema: {
      tags: ['chat'],
      summary: 'A deterministic simulated chat completion, streamed word by word or whole',
      description: 'Plain replies, structured output (`response_format` json_schema or json_object, with real ' +
        'step splitting for the `task_plan` schema), and tool calls (forced by `tool_choice`, or when the last ' +
        'user message contains every word of a function name). Faults can be injected with the `x-sim-fault` header.',
      body: SimChatRequest,
      response: { 200: ChatCompletion, ...errorResponses }
    }
  }, async (request, reply) => {
    const body = request.body
    if (!models.includes(body.model)) return reply.code(404).send(modelNotFound(body.model, models))
    const answer = answerChat(body)
    const fault = await faults.intercept(request, reply, { model: body.model, stream: body.stream === true })
    if (fault.answered) return reply

    const all = answer.kind === 'text' ? tokenize(answer.content) : argumentPieces(answer.call.function.arguments)
    const limit = answer.kind === 'text' ? body.max_completion_tokens ?? body.max_tokens ?? Infinity : Infinity
    const tokens = all.slice(0, limit)
    const finishReason = answer.kind === 'tool_call' ? 'tool_calls' : tokens.length < all.length ? 'length' : 'stop'
    const completionTokens = answer.kind === 'text' ? tokens.length : countTokens(`${answer.call.function.name} ${answer.call.function.arguments}`)
    const promptTokens = body.messages.reduce((n, m) => n + countTokens(messageText(m)), 0)
    const usage: Usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens }
    const id = `chatcmpl-sim-${randomUUID()}`
    const created = Math.floor(Date.now() / 1000)

    if (!body.stream) {
      const message = answer.kind === 'text'
        ? { role: 'assistant' as const, content: tokens.join('') }
        : { role: 'assistant' as const, content: null, tool_calls: [answer.call] }
      return {
        id,
        object: 'chat.completion' as const,
        created,
        model: body.model,
        choices: [{ index: 0, message, finish_reason: finishReason }],
        usage
      }
    }

    const raw = startEventStream(reply)
    let closed = false
    raw.on('close', () => { closed = true })
    let flushed: Promise<void> = Promise.resolve()
    const send = (chunk: Chunk | '[DONE]'): void => {
      flushed = new Promise((resolve) => raw.write(`data: ${typeof chunk === 'string' ? chunk : JSON.stringify(chunk)}\n\n`, () => resolve()))
    }
    const chunk = (delta: Delta, finish: string | null): Chunk =>
      ({ id, object: 'chat.completion.chunk', created, model: body.model, choices: [{ index: 0, delta, finish_reason: finish }] })
    const interval = SIM_TOKENS_PER_SECOND > 0 ? 1000 / SIM_TOKENS_PER_SECOND : 0

    if (answer.kind === 'text') send(chunk({ role: 'assistant', content: '' }, null))
    else {
      const { id: callId, type, function: { name } } = answer.call
      send(chunk({ role: 'assistant', content: null, tool_calls: [{ index: 0, id: callId, type, function: { name, arguments: '' } }] }, null))
    }
    let sent = 0
    for (const token of tokens) {
      if (closed) return
      if (fault.cutAfter !== undefined && sent >= fault.cutAfter) break
      if (interval) await sleep(interval)
      send(chunk(answer.kind === 'text' ? { content: token } : { tool_calls: [{ index: 0, function: { arguments: token } }] }, null))
      sent++
    }
    if (closed) return
    if (fault.cutAfter !== undefined) {
      // The simulated network failure: the socket goes away mid-stream, with no finish chunk and no [DONE].
      request.log.info({ chunks: sent }, 'cutting the stream (simulated fault)')
      await flushed
      raw.destroy()
      return
    }
    send(chunk({}, finishReason))
    if (body.stream_options?.include_usage) send({ id, object: 'chat.completion.chunk', created, model: body.model, choices: [], usage })
    send('[DONE]')
    raw.end()
  })
}
export default chatCompletions
