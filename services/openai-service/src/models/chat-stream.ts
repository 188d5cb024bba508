import OpenAI from 'openai'
import type { FastifyBaseLogger } from 'fastify'
import type { ChatMessage, Usage } from '@skein/schemas'
import { BackendError, BackendRateLimitedError, BackendRejectedError, BackendTimeoutError, UnknownModelError } from '../errors.js'
import type { Backend, ModelRouter } from './model-router.js'
import type { UsageMeter } from './usage-meter.js'

export interface ChatRequest {
  /** Default: the configured default model. */
  model?: string
  messages: ChatMessage[]
  /** Other OpenAI request fields passed through as they are (temperature, tools, response_format…). */
  params?: Record<string, unknown>
  /** Aborts the call (the client went away, the thread was cancelled). */
  signal?: AbortSignal
}

export interface ToolCall {
  id: string
  type: 'function'
  function: { name: string, arguments: string }
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'error' | 'cancelled'

export interface ChatResult {
  /** The model that answered (the fallback, when it had to). */
  model: string
  requestedModel: string
  backend: string
  finishReason: FinishReason
  text: string
  toolCalls: ToolCall[]
  usage: Usage
  firstTokenMs: number | null
  durationMs: number
  retries: number
  /** Why an answer ended early (finishReason "error"). */
  error?: { code: string, message: string }
}

export type ChatEvent =
  | { type: 'token', text: string }
  | { type: 'tool_call', index: number, id?: string, name?: string, arguments?: string }
  | { type: 'end', result: ChatResult }

/** Why this process aborted a call, kept apart from the caller's own abort. */
class TimedOut extends Error {
  constructor (readonly phase: 'first token' | 'idle', ms: number) {
    super(phase === 'first token' ? `no first token within ${ms} ms` : `silent for ${ms} ms mid-answer`)
  }
}

class StreamCut extends Error {
  constructor () {
    super('the stream ended without a finish reason')
  }
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> => new Promise((resolve) => {
  const timer = setTimeout(resolve, ms)
  signal?.addEventListener('abort', () => { clearTimeout(timer); resolve() }, { once: true })
})

function header (err: unknown, name: string): string | null {
  if (!(err instanceof OpenAI.APIError) || !err.headers) return null
  const h = err.headers as unknown as { get?: (n: string) => string | null } & Record<string, string>
  return typeof h.get === 'function' ? h.get(name) : h[name] ?? null
}

/** Honours `retry-after-ms` and `retry-after` (seconds or a date); otherwise exponential backoff with jitter. */
export function retryDelayMs (err: unknown, attempt: number, capMs: number): number {
  const ms = Number(header(err, 'retry-after-ms'))
  if (Number.isFinite(ms) && ms > 0) return Math.min(ms, capMs)
  const after = header(err, 'retry-after')
  if (after) {
    const seconds = Number(after)
    const wait = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(after) - Date.now()
    if (Number.isFinite(wait) && wait >= 0) return Math.min(wait, capMs)
  }
  return Math.min(capMs, 250 * 2 ** attempt) * (0.5 + Math.random() / 2)
}

function retriable (err: unknown): boolean {
  if (err instanceof TimedOut || err instanceof StreamCut) return true
  if (err instanceof OpenAI.APIUserAbortError) return false
  if (err instanceof OpenAI.APIConnectionError) return true
  if (err instanceof OpenAI.APIError) return err.status === undefined || err.status === 408 || err.status === 409 || err.status === 429 || err.status >= 500
  return true // a socket torn down mid-read surfaces as a plain error
}

function describe (err: unknown): string {
  if (err instanceof OpenAI.APIError && err.status) return `HTTP ${err.status}: ${err.message}`
  return err instanceof Error ? err.message : String(err)
}

/** The backend refused the request itself (400, 401, 403, 404…): no retry or fallback will change that. */
function rejected (err: unknown): boolean {
  return err instanceof OpenAI.APIError && typeof err.status === 'number' && err.status >= 400 && err.status < 500 && ![408, 409, 429].includes(err.status)
}

function failure (backend: string, err: unknown): Error {
  if (rejected(err)) return new BackendRejectedError(backend, describe(err))
  if (err instanceof OpenAI.APIError && err.status === 429) return new BackendRateLimitedError(backend, describe(err))
  if (err instanceof TimedOut || err instanceof OpenAI.APIConnectionTimeoutError) return new BackendTimeoutError(backend, describe(err))
  return new BackendError(backend, describe(err))
}

const estimateTokens = (text: string): number => Math.ceil(text.length / 4)

/**
 * Model calls with the service's own rules: bounded retries with backoff (honouring Retry-After) on 429, 5xx,
 * timeouts and cut streams before the first token; then the fallback model; connect, first-token and idle
 * timeouts; an answer that fails after its first token ends with finish reason "error" and the reason,
 * never hanging; usage recorded per model.
 */
export class ChatModels {
  constructor (
    private readonly router: ModelRouter,
    private readonly meter: UsageMeter,
    private readonly log: FastifyBaseLogger,
    private readonly retryMaxDelayMs: number
  ) {}

  /** Streams one answer. Throws (before any event) when no model could start answering. */
  async * stream (req: ChatRequest): AsyncGenerator<ChatEvent, void, undefined> {
    const requested = req.model ?? this.router.defaultModel
    const candidates = [requested, ...(this.router.fallbackModel && this.router.fallbackModel !== requested ? [this.router.fallbackModel] : [])]
    const started = performance.now()
    let lastError: unknown
    let lastBackend = 'none'
    let retries = 0

    for (const model of candidates) {
      let backend: Backend
      try {
        backend = await this.router.resolve(model)
      } catch (err) {
        if (model === requested || !(err instanceof UnknownModelError)) throw err
        continue
      }
      lastBackend = backend.name
      const end = this.meter.begin(model, backend.name)
      const modelStarted = performance.now()
      let modelRetries = 0
      try {
        for (let attempt = 0; ; attempt++) {
          const outcome = yield * this.attempt(backend, model, requested, req, started, retries, modelRetries)
          if (outcome.done) return
          lastError = outcome.error
          if (rejected(outcome.error)) throw failure(backend.name, outcome.error)
          if (req.signal?.aborted) throw new BackendError(backend.name, 'the call was cancelled')
          if (attempt >= backend.maxRetries || !retriable(outcome.error)) break
          retries++
          modelRetries++
          const wait = retryDelayMs(outcome.error, attempt, this.retryMaxDelayMs)
          this.log.warn({ model, backend: backend.name, attempt: attempt + 1, waitMs: Math.round(wait), reason: describe(outcome.error) }, 'model call failed before its first token; retrying')
          await sleep(wait, req.signal)
          if (req.signal?.aborted) throw new BackendError(backend.name, 'the call was cancelled')
        }
      } finally {
        end()
      }
      // This model failed before its first token: its failed request and its own retries are counted on it.
      this.meter.record({ model, backend: backend.name, promptTokens: 0, completionTokens: 0, firstTokenMs: null, durationMs: Math.round(performance.now() - modelStarted), outcome: 'error', retries: modelRetries })
      if (model !== candidates[candidates.length - 1]) {
        this.log.warn({ model, fallback: candidates[candidates.length - 1], reason: describe(lastError) }, 'model failed before its first token; falling back')
      }
    }
    throw failure(lastBackend, lastError)
  }

  /** One call to one backend. Yields events only once the answer has started; reports how it ended. */
  private async * attempt (backend: Backend, model: string, requested: string, req: ChatRequest, started: number, retries: number, modelRetries: number): AsyncGenerator<ChatEvent, { done: true } | { done: false, error: unknown }, undefined> {
    const controller = new AbortController()
    const onAbort = (): void => controller.abort(req.signal?.reason)
    if (req.signal?.aborted) onAbort()
    req.signal?.addEventListener('abort', onAbort, { once: true })
    let timer: NodeJS.Timeout | undefined
    const arm = (phase: 'first token' | 'idle', ms: number): void => {
      clearTimeout(timer)
      timer = setTimeout(() => controller.abort(new TimedOut(phase, ms)), ms)
    }
    let text = ''
    let emitted = false
    let firstTokenMs: number | null = null
    let finishReason: FinishReason | undefined
    let usage: Usage | undefined
    const toolCalls: ToolCall[] = []

    const result = (reason: FinishReason, error?: { code: string, message: string }): ChatResult => {
      const promptTokens = usage?.prompt_tokens ?? estimateTokens(JSON.stringify(req.messages))
      const completionTokens = usage?.completion_tokens ?? estimateTokens(text)
      const r: ChatResult = {
        model,
        requestedModel: requested,
        backend: backend.name,
        finishReason: reason,
        text,
        toolCalls,
        usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
        firstTokenMs,
        durationMs: Math.round(performance.now() - started),
        retries,
        ...(error ? { error } : {})
      }
      this.meter.record({
        model,
        backend: backend.name,
        promptTokens,
        completionTokens,
        firstTokenMs,
        durationMs: r.durationMs,
        outcome: reason === 'error' ? 'error' : 'ok',
        retries: modelRetries,
        ...(model !== requested ? { fallbackFrom: requested } : {})
      })
      return r
    }

    try {
      // The first-token deadline runs from the request, whatever part of it the backend is slow in.
      arm('first token', backend.timeouts.firstTokenMs)
      const stream = await backend.client.chat.completions.create({
        ...req.params,
        model,
        messages: req.messages as OpenAI.Chat.ChatCompletionMessageParam[],
        stream: true,
        stream_options: { include_usage: true }
      }, { signal: controller.signal })
      for await (const chunk of stream) {
        if (chunk.usage) usage = chunk.usage
        const choice = chunk.choices.find((c) => c.index === 0) // one answer: other choices (n > 1) are not ours to merge
        if (!choice) continue
        const content = choice.delta?.content
        const startsNow = (): void => {
          if (!emitted) firstTokenMs = Math.round(performance.now() - started)
          emitted = true
          arm('idle', backend.timeouts.idleMs)
        }
        if (content) {
          startsNow()
          text += content
          yield { type: 'token', text: content }
        }
        for (const call of choice.delta?.tool_calls ?? []) {
          startsNow()
          const slot = toolCalls[call.index] ??= { id: call.id ?? `call_${call.index}`, type: 'function', function: { name: '', arguments: '' } }
          if (call.id) slot.id = call.id
          if (call.function?.name) slot.function.name += call.function.name
          if (call.function?.arguments) slot.function.arguments += call.function.arguments
          yield { type: 'tool_call', index: call.index, ...(call.id ? { id: call.id } : {}), ...(call.function?.name ? { name: call.function.name } : {}), ...(call.function?.arguments ? { arguments: call.function.arguments } : {}) }
        }
        if (choice.finish_reason) finishReason = choice.finish_reason as FinishReason
      }
      clearTimeout(timer)
      if (!finishReason) throw new StreamCut()
      yield { type: 'end', result: result(finishReason) }
      return { done: true }
    } catch (err) {
      clearTimeout(timer)
      const reason: unknown = controller.signal.reason instanceof TimedOut ? controller.signal.reason : err
      if (req.signal?.aborted) {
        if (emitted) {
          yield { type: 'end', result: result('cancelled') }
          return { done: true }
        }
        return { done: false, error: reason }
      }
      if (emitted) {
        this.log.warn({ model, backend: backend.name, reason: describe(reason) }, 'model stream failed mid-answer')
        yield { type: 'end', result: result('error', { code: 'OPENAI_STREAM_INTERRUPTED', message: `The model backend ${backend.name} failed mid-answer: ${describe(reason)}` }) }
        return { done: true }
      }
      return { done: false, error: reason }
    } finally {
      clearTimeout(timer)
      req.signal?.removeEventListener('abort', onAbort)
      if (!controller.signal.aborted) controller.abort()
    }
  }

  /** One whole answer (the stream, gathered). */
  async complete (req: ChatRequest): Promise<ChatResult> {
    for await (const event of this.stream(req)) {
      if (event.type === 'end') return event.result
    }
    throw new BackendError('none', 'the answer ended without a result')
  }
}
