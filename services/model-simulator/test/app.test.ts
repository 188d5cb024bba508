import { test } from 'tap'
import OpenAI from 'openai'
import { build } from './helper.js'

const cosine = (a: number[], b: number[]): number => a.reduce((s, x, i) => s + x * b[i]!, 0)

test('the official openai SDK lists the simulated models', async (t) => {
  const { url } = await build(t)
  const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'x', maxRetries: 0 })
  const ids = []
  for await (const m of client.models.list()) ids.push(m.id)
  t.same(ids, ['skein-sim-1', 'skein-sim-mini', 'skein-sim-embed', 'skein-sim-tts', 'skein-sim-image'])
})

test('a streamed chat completion arrives token by token, ends with [DONE] and a usage block', async (t) => {
  const { url } = await build(t)
  const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'x', maxRetries: 0 })
  const stream = await client.chat.completions.create({
    model: 'skein-sim-1',
    stream: true,
    stream_options: { include_usage: true },
    messages: [{ role: 'user', content: 'How do I plan a vegetable garden on a small balcony?' }]
  })
  const tokens: string[] = []
  let usage
  let finish
  for await (const chunk of stream) {
    const c = chunk.choices[0]
    if (c?.delta.content) tokens.push(c.delta.content)
    if (c?.finish_reason) finish = c.finish_reason
    if (chunk.usage) usage = chunk.usage
  }
  t.ok(tokens.length > 10, 'many tokens')
  const text = tokens.join('')
  t.match(text, /^\[simulated\]/, 'labelled as simulated')
  t.match(text, /vegetable|garden|balcony/, 'built from the conversation')
  t.not(text.trim(), 'How do I plan a vegetable garden on a small balcony?', 'not an echo')
  t.equal(finish, 'stop')
  t.equal(usage?.completion_tokens, tokens.length)
  t.ok((usage?.prompt_tokens ?? 0) > 0)

  const again = await client.chat.completions.create({ model: 'skein-sim-1', messages: [{ role: 'user', content: 'How do I plan a vegetable garden on a small balcony?' }] })
  t.equal(again.choices[0]?.message.content, text, 'deterministic: the same input gives the same answer')
})

test('streaming honours the configured rate', async (t) => {
  const { url } = await build(t, { SIM_TOKENS_PER_SECOND: '200' })
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'skein-sim-1', stream: true, messages: [{ role: 'user', content: 'tell me about rivers and mountains' }] })
  })
  t.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8')
  const started = Date.now()
  const text = await res.text()
  const chunks = text.split('\n\n').filter((l) => l.startsWith('data: {'))
  t.ok(Date.now() - started >= (chunks.length - 3) * 5 * 0.8, 'about 5 ms per token')
  t.match(text, /data: \[DONE\]\n\n$/)
})

test('embeddings: texts that share words are closer than texts that do not', async (t) => {
  const { url } = await build(t)
  const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'x', maxRetries: 0 })
  const res = await client.embeddings.create({
    model: 'skein-sim-embed',
    input: ['the cat sat on the warm mat', 'a cat sat on a mat', 'quarterly revenue forecast spreadsheet']
  })
  const [a, b, c] = res.data.map((d) => d.embedding)
  t.equal(a!.length, 256)
  t.ok(cosine(a!, b!) > cosine(a!, c!) + 0.3, `shared words are close (${cosine(a!, b!).toFixed(2)} vs ${cosine(a!, c!).toFixed(2)})`)
})

test('an unknown model is a 404 in the error format; a bad body is a 400 naming the field', async (t) => {
  const { app } = await build(t)
  const unknown = await app.inject({ method: 'POST', url: '/v1/chat/completions', payload: { model: 'gpt-nope', messages: [{ role: 'user', content: 'hi' }] } })
  t.equal(unknown.statusCode, 404)
  t.equal(unknown.json().error.code, 'model_not_found')
  const bad = await app.inject({ method: 'POST', url: '/v1/chat/completions', payload: { model: 'skein-sim-1', messages: [] } })
  t.equal(bad.statusCode, 400)
  t.equal(bad.json().error.code, 'SIM_VALIDATION')
  t.match(bad.json().error.message, /messages/)
})
