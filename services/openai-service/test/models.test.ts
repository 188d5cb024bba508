import { test } from 'tap'
import OpenAI from 'openai'
import type { FastifyInstance } from 'fastify'
import { auth, build, nats, simulator } from './helper.js'

type T = Parameters<Parameters<typeof test>[1]>[0]

/** The openai-service on a real port in front of a simulator process configured with `sim`. */
async function service (t: T, sim: Record<string, string> = {}, env: Record<string, string> = {}): Promise<{ app: FastifyInstance, client: OpenAI, url: string }> {
  const n = await nats(t)
  const base = await simulator(t, sim)
  const app = await build(t, { NATS_URL: n.url, OPENAI_BASE_URL: base, OPENAI_API_KEY: 'sim', MODEL_BACKEND: 'simulator', MODEL_RETRY_MAX_DELAY_MS: '2000', ...env })
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  const token = auth().authorization.replace('Bearer ', '')
  return { app, url, client: new OpenAI({ baseURL: `${url}/v1`, apiKey: token, maxRetries: 0 }) }
}

const ask = [{ role: 'user' as const, content: 'What should I know about tides and the moon?' }]

async function stats (app: FastifyInstance, model: string): Promise<Record<string, number>> {
  const res = await app.inject({ url: '/models/stats', headers: auth() })
  return res.json().models.find((m: { model: string }) => m.model === model) ?? {}
}

test('the official SDK streams a chat completion with a usage block; usage is counted per model', async (t) => {
  const { client, app } = await service(t)
  const stream = await client.chat.completions.create({ model: 'skein-sim-1', messages: ask, stream: true, stream_options: { include_usage: true } })
  let text = ''
  let usage
  let finish
  for await (const c of stream) {
    text += c.choices[0]?.delta.content ?? ''
    finish = c.choices[0]?.finish_reason ?? finish
    usage = c.usage ?? usage
  }
  t.match(text, /^\[simulated\].*tides/)
  t.equal(finish, 'stop')
  t.ok(usage && usage.completion_tokens > 0 && usage.prompt_tokens > 0, 'usage block')
  const whole = await client.chat.completions.create({ model: 'skein-sim-1', messages: ask })
  t.equal(whole.choices[0]?.message.content, text, 'stream and whole give the same deterministic answer')
  t.equal(whole.usage?.completion_tokens, usage?.completion_tokens)
  const s = await stats(app, 'skein-sim-1')
  t.equal(s.requests, 2)
  t.equal(s.completionTokens, 2 * usage!.completion_tokens)
  t.equal(s.active, 0)
  t.ok((s.avgFirstTokenMs ?? -1) >= 0, 'latency to first token recorded')
  const health = (await app.inject({ url: '/health' })).json()
  const counted = health.dependencies.model.details.usage.find((u: { model: string }) => u.model === 'skein-sim-1')
  t.ok(counted && counted.requests >= 1, `/health counts the model's requests (${JSON.stringify(counted)})`)
  t.equal(counted?.completionTokens, s.completionTokens, '/health and /models/stats count the same')
})

test('the default model answers when none is named; embeddings go to the embedding model', async (t) => {
  const { url, client } = await service(t, {}, { SKEIN_MODEL: 'skein-sim-mini' })
  const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ messages: ask, model: '' }) })
  t.equal(res.status, 400, 'an empty model name is refused')
  const emb = await client.embeddings.create({ model: 'skein-sim-embed', input: ['moon tides ocean', 'ocean tides and the moon', 'tax forms'] })
  const [a, b, c] = emb.data.map((d) => d.embedding)
  const dot = (x: number[], y: number[]): number => x.reduce((s, v, i) => s + v * y[i]!, 0)
  t.ok(dot(a!, b!) > dot(a!, c!), 'texts that share words are closer')
})

test('a 429 with Retry-After is retried after the wait it asks for', async (t) => {
  const { client, app } = await service(t, { SIM_FAULT: 'status=429,retry-after=1,times=1' })
  const started = Date.now()
  const res = await client.chat.completions.create({ model: 'skein-sim-1', messages: ask })
  t.match(res.choices[0]?.message.content, /tides/)
  t.ok(Date.now() - started >= 900, `waited for Retry-After (${Date.now() - started} ms)`)
  t.equal((await stats(app, 'skein-sim-1')).retries, 1)
})

test('429s beyond the retry budget are a 429 in OpenAI\'s error shape', async (t) => {
  const { url } = await service(t, { SIM_FAULT: 'status=429,retry-after=0' }, { MODEL_MAX_RETRIES: '1' })
  const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ model: 'skein-sim-1', messages: ask }) })
  t.equal(res.status, 429)
  const body = await res.json() as { error: { code: string, type: string, message: string } }
  t.equal(body.error.code, 'OPENAI_BACKEND_RATE_LIMITED')
  t.equal(body.error.type, 'rate_limit_error')
})

test('a 500 before the first token falls back to the fallback model', async (t) => {
  const { client, app } = await service(t, { SIM_FAULT: 'status=500,model=skein-sim-1' }, { FALLBACK_MODEL: 'skein-sim-mini', MODEL_MAX_RETRIES: '1' })
  const stream = await client.chat.completions.create({ model: 'skein-sim-1', messages: ask, stream: true })
  let text = ''
  let model = ''
  for await (const c of stream) {
    text += c.choices[0]?.delta.content ?? ''
    if (c.choices[0]?.finish_reason) model = c.model
  }
  t.match(text, /tides/)
  t.equal(model, 'skein-sim-mini', 'the fallback answered')
  const primary = await stats(app, 'skein-sim-1')
  t.equal(primary.fallbacks, 1)
  t.equal(primary.requests, 1, 'the failed model counts its failed request')
  t.equal(primary.errors, 1)
  t.equal(primary.retries, 1, 'skein-sim-1 was retried once (MODEL_MAX_RETRIES=1) before the fallback: the retry is counted on it')
  const fallback = await stats(app, 'skein-sim-mini')
  t.equal(fallback.requests, 1)
  t.equal(fallback.errors, 0)
  t.equal(fallback.retries, 0, 'the fallback answered at once')
})

test('a stream cut mid-way ends with an error finish and a clear reason, never hanging', async (t) => {
  const { client, url } = await service(t, { SIM_FAULT: 'cut-after=5' })
  const stream = await client.chat.completions.create({ model: 'skein-sim-1', messages: ask, stream: true })
  const tokens: string[] = []
  const err = await (async () => {
    for await (const c of stream) if (c.choices[0]?.delta.content) tokens.push(c.choices[0].delta.content)
  })().catch((e: unknown) => e)
  t.equal(tokens.length, 5, 'the tokens before the cut arrived')
  t.ok(err instanceof OpenAI.APIError, 'the SDK surfaces the error event')
  t.match((err as Error).message, /failed mid-answer/)

  const raw = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ model: 'skein-sim-1', messages: ask, stream: true }) })
  const text = await raw.text()
  t.match(text, /"finish_reason":"error"/)
  t.match(text, /"code":"OPENAI_STREAM_INTERRUPTED"/)
  t.match(text, /data: \[DONE\]\n\n$/, 'the stream is closed properly')
})

test('a hung backend times out with a 504; a slow first token counts against its own timeout', async (t) => {
  const hung = await service(t, { SIM_FAULT: 'hang' }, { MODEL_CONNECT_TIMEOUT_MS: '400', MODEL_MAX_RETRIES: '1', MODEL_RETRY_MAX_DELAY_MS: '100' })
  const started = Date.now()
  const res = await fetch(`${hung.url}/v1/chat/completions`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ model: 'skein-sim-1', messages: ask, stream: true }) })
  t.equal(res.status, 504)
  t.equal((await res.json() as { error: { code: string } }).error.code, 'OPENAI_BACKEND_TIMEOUT')
  t.ok(Date.now() - started < 5_000, `bounded (${Date.now() - started} ms)`)

  const slow = await service(t, { SIM_FAULT: 'latency=1500' }, { MODEL_FIRST_TOKEN_TIMEOUT_MS: '300', MODEL_MAX_RETRIES: '0' })
  const late = await fetch(`${slow.url}/v1/chat/completions`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ model: 'skein-sim-1', messages: ask, stream: true }) })
  t.equal(late.status, 504)
  t.match((await late.json() as { error: { message: string } }).error.message, /no first token within 300 ms/)
})

test('a backend that goes silent mid-answer is cut by the idle timeout: an error finish, the reason, then [DONE]', async (t) => {
  const { url, app } = await service(t, { SIM_TOKENS_PER_SECOND: '2' }, { MODEL_IDLE_TIMEOUT_MS: '200', MODEL_FIRST_TOKEN_TIMEOUT_MS: '5000', MODEL_MAX_RETRIES: '0' })
  const started = Date.now()
  const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ model: 'skein-sim-1', messages: ask, stream: true }) })
  t.equal(res.status, 200, 'the answer had started')
  const text = await res.text()
  t.ok(Date.now() - started < 3_000, `cut within the idle timeout, not at the end of a slow answer (${Date.now() - started} ms)`)
  t.ok(text.split('\n\n').some((e) => /"delta":\{"content":"[^"]+"\}/.test(e)), 'the first token arrived before the silence')
  t.match(text, /"finish_reason":"error"/)
  t.match(text, /silent for 200 ms mid-answer/)
  t.match(text, /data: \[DONE\]\n\n$/, 'the stream is closed properly')
  t.equal((await stats(app, 'skein-sim-1')).active, 0, 'nothing left generating')
})

test('bad requests get 400s in OpenAI\'s shape that name the field', async (t) => {
  const { app } = await service(t)
  const post = (payload: unknown) => app.inject({ method: 'POST', url: '/v1/chat/completions', headers: auth(), payload: payload as Record<string, unknown> })
  const empty = await post({ model: 'skein-sim-1', messages: [] })
  t.equal(empty.statusCode, 400)
  t.equal(empty.json().error.param, 'messages')
  t.equal(empty.json().error.type, 'invalid_request_error')
  t.equal(empty.json().error.code, 'OPENAI_VALIDATION')
  const noModel = await post({ messages: ask })
  t.equal(noModel.json().error.param, 'model')
  const badRole = await post({ model: 'skein-sim-1', messages: [{ role: 'robot', content: 'x' }] })
  t.match(badRole.json().error.param, /^messages\.0\.role/)
  const unknown = await post({ model: 'gpt-nope', messages: ask })
  t.equal(unknown.statusCode, 400)
  t.equal(unknown.json().error.code, 'OPENAI_UNKNOWN_MODEL')
  t.match(unknown.json().error.message, /known models: skein-sim-1, skein-sim-mini/)
  const badEmb = await app.inject({ method: 'POST', url: '/v1/embeddings', headers: auth(), payload: { model: 'skein-sim-embed' } })
  t.equal(badEmb.statusCode, 400)
  t.equal(badEmb.json().error.param, 'input')
})

test('OPENAI_BASE_URL sends requests to another OpenAI-compatible server (a second simulator on its own port)', async (t) => {
  const { client } = await service(t, { SIM_MODELS: 'only-on-b' })
  const models = []
  for await (const m of client.models.list()) models.push(m.id)
  t.ok(models.includes('only-on-b'))
  const res = await client.chat.completions.create({ model: 'only-on-b', messages: ask })
  t.equal(res.model, 'only-on-b')
  t.match(res.choices[0]?.message.content, /tides/)
})

test('a request the backend refuses (400) is not retried nor sent to the fallback', async (t) => {
  const { url, app } = await service(t, { SIM_FAULT: 'status=400' }, { FALLBACK_MODEL: 'skein-sim-mini', MODEL_MAX_RETRIES: '3' })
  const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ model: 'skein-sim-1', messages: ask }) })
  t.equal(res.status, 400)
  t.equal((await res.json() as { error: { code: string } }).error.code, 'OPENAI_BACKEND_REJECTED')
  t.equal((await stats(app, 'skein-sim-mini')).requests, undefined, 'the fallback was not asked')
})
