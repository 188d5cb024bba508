import { request as httpRequest } from 'node:http'
import { test } from 'tap'
import OpenAI from 'openai'
import { build, sdk } from './helper.js'

const CHAT = { model: 'skein-sim-1', messages: [{ role: 'user' as const, content: 'Tell me about rivers and mountains' }] }
const withFault = (fault: string): { headers: Record<string, string> } => ({ headers: { 'x-sim-fault': fault } })

async function post (url: string, path: string, body: unknown, fault?: string): Promise<Response> {
  return fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(fault === undefined ? {} : { 'x-sim-fault': fault }) },
    body: JSON.stringify(body)
  })
}

test('status answers an OpenAI-shaped error, with Retry-After when asked', async (t) => {
  const { url } = await build(t)
  const res = await post(url, '/v1/chat/completions', CHAT, 'status=429,retry-after=7')
  t.equal(res.status, 429)
  t.equal(res.headers.get('retry-after'), '7')
  t.same(await res.json(), { error: { message: "[simulated] HTTP 429 injected by the fault 'status=429,retry-after=7'", type: 'rate_limit_error', code: 'rate_limit_exceeded', param: null } })
  const plain = await post(url, '/v1/chat/completions', CHAT, 'status=500')
  t.equal(plain.status, 500)
  t.equal(plain.headers.get('retry-after'), null)
  t.match(await plain.json(), { error: { type: 'server_error', code: 'server_error' } })
})

test('times=N: the SDK retries through the first N failures; another string counts on its own', async (t) => {
  const { url } = await build(t)
  const res = await sdk(url, { maxRetries: 2 }).chat.completions.create(CHAT, withFault('status=503,retry-after=0,times=2'))
  t.match(res.choices[0]?.message.content, /^\[simulated\]/, 'the third attempt succeeds')

  const err = await sdk(url, { maxRetries: 1 }).chat.completions.create(CHAT, withFault('times=2,status=503,retry-after=0')).catch((e: unknown) => e)
  t.ok(err instanceof OpenAI.APIError, 'two attempts, two failures')
  t.equal((err as InstanceType<typeof OpenAI.APIError>).status, 503)
  t.equal((err as InstanceType<typeof OpenAI.APIError>).code, 'service_unavailable')
  const after = await sdk(url).chat.completions.create(CHAT, withFault('times=2,status=503,retry-after=0'))
  t.equal(after.choices[0]?.finish_reason, 'stop', 'then it is spent')
})

test('latency delays the answer, and the first token of a stream', async (t) => {
  const { url } = await build(t)
  const client = sdk(url)
  let started = Date.now()
  await client.chat.completions.create(CHAT, withFault('latency=250'))
  t.ok(Date.now() - started >= 240, `whole answer after ${Date.now() - started} ms`)

  started = Date.now()
  const stream = await client.chat.completions.create({ ...CHAT, stream: true }, withFault('latency=250'))
  let firstToken = 0
  for await (const chunk of stream) if (!firstToken && chunk.choices[0]?.delta.content) firstToken = Date.now() - started
  t.ok(firstToken >= 240, `first token after ${firstToken} ms`)
})

test('hang never answers: the SDK times out', async (t) => {
  const { url } = await build(t, {}, { forceCloseConnections: true })
  const started = Date.now()
  const err = await sdk(url, { timeout: 300 }).chat.completions.create(CHAT, withFault('hang')).catch((e: unknown) => e)
  t.ok(err instanceof OpenAI.APIConnectionTimeoutError, 'the client gives up')
  t.ok(Date.now() - started >= 290, 'after its own timeout')
})

// A request a fault holds (a hang; a latency wait, which would otherwise be answered after it) keeps its socket
// open while the server runs; closing the server releases it promptly. A raw request, so nothing closes it but
// the server.
for (const fault of ['hang', 'latency=5000']) {
  test(`a request held by ${fault} keeps its socket open until the server closes, which releases it promptly`, async (t) => {
    const { app, url } = await build(t)
    const { port } = new URL(url)
    const outcome = new Promise<string>((resolve) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/v1/embeddings', method: 'POST', headers: { 'content-type': 'application/json', 'x-sim-fault': fault } })
      req.on('response', (res) => resolve(`answered ${res.statusCode}`))
      req.on('error', (e) => resolve(`socket closed: ${e.message}`))
      req.end(JSON.stringify({ model: 'skein-sim-embed', input: 'x' }))
    })
    const early = await Promise.race([outcome, new Promise((resolve) => setTimeout(() => resolve('still waiting'), 300))])
    t.equal(early, 'still waiting', 'no answer while the server runs')
    const closing = Date.now()
    await app.close()
    t.ok(Date.now() - closing < 1000, `the server closes promptly (${Date.now() - closing} ms)`)
    t.match(await outcome, /^socket closed/)
  })
}

test('cut-after=N sends N tokens and then drops the connection: no finish, no [DONE]', async (t) => {
  const { url } = await build(t)
  const stream = await sdk(url).chat.completions.create({ ...CHAT, stream: true }, withFault('cut-after=3'))
  const tokens: string[] = []
  let finish: string | null | undefined
  const err = await (async () => {
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta.content) tokens.push(chunk.choices[0].delta.content)
      finish ??= chunk.choices[0]?.finish_reason
    }
  })().catch((e: unknown) => e)
  t.ok(err instanceof Error, `the stream fails (${String(err)})`)
  t.equal(tokens.length, 3)
  t.notOk(finish, 'no finish reason')

  const raw = await post(url, '/v1/chat/completions', { ...CHAT, stream: true }, 'cut-after=2')
  const text = await raw.text().catch((e: unknown) => `failed: ${String(e)}`)
  t.match(text, /^failed: /, 'fetch sees the connection die')

  const whole = await sdk(url).chat.completions.create(CHAT, withFault('cut-after=2'))
  t.equal(whole.choices[0]?.finish_reason, 'stop', 'a non-streamed answer is not cut')
})

test('model=NAME faults only that model', async (t) => {
  const { url } = await build(t)
  t.equal((await post(url, '/v1/chat/completions', CHAT, 'status=500,model=skein-sim-mini')).status, 200)
  t.equal((await post(url, '/v1/chat/completions', { ...CHAT, model: 'skein-sim-mini' }, 'status=500,model=skein-sim-mini')).status, 500)
})

test('SIM_FAULT faults every request; the header wins over it, a blank header means none', async (t) => {
  const { url } = await build(t, { SIM_FAULT: 'status=429,times=1' })
  t.equal((await post(url, '/v1/chat/completions', CHAT)).status, 429)
  t.equal((await post(url, '/v1/chat/completions', CHAT)).status, 200, 'times=1 is spent')

  const other = await build(t, { SIM_FAULT: 'status=500' })
  t.equal((await post(other.url, '/v1/embeddings', { model: 'skein-sim-embed', input: 'x' })).status, 500)
  t.equal((await post(other.url, '/v1/embeddings', { model: 'skein-sim-embed', input: 'x' }, 'status=418')).status, 418, 'the header wins')
  t.equal((await post(other.url, '/v1/embeddings', { model: 'skein-sim-embed', input: 'x' }, '')).status, 200, 'a blank header turns it off')
})

test('a bad header is a 400; a bad SIM_FAULT stops the boot', async (t) => {
  const { url } = await build(t)
  const res = await post(url, '/v1/chat/completions', CHAT, 'status=teapot')
  t.equal(res.status, 400)
  t.same(await res.json(), { error: { code: 'SIM_BAD_FAULT', message: "Invalid x-sim-fault header: 'status' needs a whole number, got 'teapot'" } })
  await t.rejects(build(t, { SIM_FAULT: 'explode' }), { name: 'FaultSyntaxError', message: /unknown fault 'explode'/ })
})

test('faults apply to embeddings, speech and images too, counted per process across routes', async (t) => {
  const { url } = await build(t)
  const bodies: Array<[string, unknown]> = [
    ['/v1/embeddings', { model: 'skein-sim-embed', input: 'x' }],
    ['/v1/audio/speech', { model: 'tts-1', voice: 'alloy', input: 'hello' }],
    ['/v1/images/generations', { prompt: 'a cat', size: '256x256' }]
  ]
  for (const [path, body] of bodies) {
    const res = await post(url, path, body, 'status=502')
    t.equal(res.status, 502, path)
    t.match(await res.json(), { error: { code: 'bad_gateway', type: 'server_error' } })
  }
  const started = Date.now()
  t.equal((await post(url, '/v1/images/generations', { prompt: 'a cat', size: '256x256' }, 'latency=200')).status, 200)
  t.ok(Date.now() - started >= 190, 'latency on images')
  t.equal((await post(url, '/v1/embeddings', { model: 'skein-sim-embed', input: 'x' }, 'status=500,times=1')).status, 500)
  t.equal((await post(url, '/v1/audio/speech', { model: 'tts-1', voice: 'alloy', input: 'hello' }, 'status=500,times=1')).status, 200, 'the one time was used by embeddings')
  t.equal((await post(url, '/v1/images/generations', { prompt: 'a cat', model: 'dall-e-3', size: '256x256' }, 'status=500,model=dall-e-3')).status, 500, 'model= matches image aliases as asked')
})
