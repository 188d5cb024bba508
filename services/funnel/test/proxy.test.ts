import { test } from 'tap'
import WebSocket from 'ws'
import { auth, build, nats, upstream } from './helper.js'

async function funnel (t: Parameters<Parameters<typeof test>[1]>[0], opts: { openai?: Parameters<typeof upstream>[2], env?: Record<string, string> } = {}) {
  const n = await nats(t)
  const chroma = await upstream(t, 'chroma-service')
  const openai = await upstream(t, 'openai-service', opts.openai)
  const { url, app } = await build(t, { NATS_URL: n.url, CHROMA_SERVICE_URL: chroma.url, OPENAI_SERVICE_URL: openai.url, ...opts.env })
  return { url, app, chroma, openai, nats: n }
}

test('/api/* goes to the chroma-service with its path kept, everything else to the openai-service', async (t) => {
  const { url, chroma, openai } = await funnel(t)
  const a = await fetch(`${url}/api/collections?limit=2`, { headers: { ...auth(), 'x-request-id': 'trace-1' } })
  t.same(await a.json(), { upstream: 'chroma-service', url: '/api/collections?limit=2' })
  t.equal(chroma.seen.at(-1)?.headers['x-request-id'], 'trace-1', 'the request id is carried upstream')
  const b = await fetch(`${url}/v1/models`, { headers: auth() })
  t.same(await b.json(), { upstream: 'openai-service', url: '/v1/models' })
  const c = await fetch(`${url}/apix`, { headers: auth() })
  t.same(await c.json(), { upstream: 'openai-service', url: '/apix' }, '/apix is not /api')
  t.match(openai.seen.at(-1)?.headers['x-request-id'], /^[0-9a-f-]{36}$/, 'a request id is made when none is given')
  const post = await fetch(`${url}/tasks`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ task: 'x' }) })
  t.same(await post.json(), { upstream: 'openai-service', url: '/tasks' })
})

test('an SSE body streams through unbuffered, chunk by chunk', async (t) => {
  const { url } = await funnel(t, {
    openai: (req, res) => {
      if (req.url !== '/stream') return false
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      let n = 0
      const timer = setInterval(() => {
        n++
        res.write(`data: ${n}\n\n`)
        if (n === 4) {
          clearInterval(timer)
          res.end()
        }
      }, 250)
      return true
    }
  })
  const started = Date.now()
  const res = await fetch(`${url}/stream`, { headers: auth() })
  t.equal(res.headers.get('content-type'), 'text/event-stream')
  const arrivals: number[] = []
  const decoder = new TextDecoder()
  let text = ''
  for await (const chunk of res.body!) {
    text += decoder.decode(chunk)
    arrivals.push(Date.now() - started)
  }
  t.equal(text, 'data: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\n')
  t.ok(arrivals.length >= 3, `arrived in ${arrivals.length} pieces`)
  t.ok(arrivals[0]! < 700, `the first event arrived before the stream ended (${arrivals[0]} ms)`)
  t.ok(arrivals.at(-1)! >= 900, 'the last one arrived when it was written')
})

test('an upstream that is down gets a 502 in the JSON error format, with no internal address', async (t) => {
  const { url, openai, chroma } = await funnel(t)
  const port = new URL(openai.url).port
  await openai.close()
  await chroma.close()
  for (const path of ['/v1/models', '/api/collections']) {
    const res = await fetch(`${url}${path}`, { headers: auth() })
    t.equal(res.status, 502, path)
    const body = await res.json() as { error: { code: string, message: string } }
    t.equal(body.error.code, 'FUNNEL_UPSTREAM_UNAVAILABLE')
    t.match(body.error.message, path.startsWith('/api') ? /chroma-service/ : /openai-service/)
    t.notMatch(JSON.stringify(body), new RegExp(`127\\.0\\.0\\.1|${port}|ECONNREFUSED`))
  }
})

test('an upstream that hangs gets a 504 in the JSON error format', async (t) => {
  const { url } = await funnel(t, {
    openai: (req) => req.url === '/hang',
    env: { UPSTREAM_HEADERS_TIMEOUT_MS: '400' }
  })
  const started = Date.now()
  const res = await fetch(`${url}/hang`, { headers: auth() })
  t.equal(res.status, 504)
  t.same(await res.json(), { error: { code: 'FUNNEL_UPSTREAM_TIMEOUT', message: 'The openai-service did not answer in time; try again, and check GET /health if it keeps happening' } })
  t.ok(Date.now() - started < 5_000)
})

test('/ws is the funnel\'s own while the proxied paths keep working beside it', async (t) => {
  const { url, openai } = await funnel(t)
  const ws = new WebSocket(`${url.replace('http', 'ws')}/ws`, { headers: auth() })
  const frames: Array<{ event: string, id?: string, data: Record<string, unknown> }> = []
  ws.on('message', (raw) => frames.push(JSON.parse(raw.toString())))
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
  const proxied = await fetch(`${url}/ws-not-really`, { headers: auth() })
  t.same(await proxied.json(), { upstream: 'openai-service', url: '/ws-not-really' })
  ws.send(JSON.stringify({ event: 'no_such_event', id: 'c1', data: {} }))
  ws.send('not json')
  while (frames.length < 3) await new Promise((resolve) => setTimeout(resolve, 20))
  t.equal(frames[0]?.event, 'status')
  t.ok(frames[0]?.data.sessionId)
  t.match(frames[1], { event: 'error', id: 'c1', data: { code: 'FUNNEL_UNKNOWN_EVENT', message: /^unknown event "no_such_event"; known: join_room,/ } })
  t.equal(frames[2]?.data.code, 'FUNNEL_BAD_FRAME')
  t.notOk(openai.seen.some((r) => r.url === '/ws'), 'the upgrade never reached the openai-service')
  ws.close()
})

test('/health aggregates every part: 200 when all are up, 503 naming what is down', async (t) => {
  const { url, openai } = await funnel(t, { env: { HEALTH_TIMEOUT_MS: '500' } })
  const up = await fetch(`${url}/health`)
  t.equal(up.status, 200)
  const body = await up.json() as { status: string, down: string[], services: Record<string, { status: string }> }
  t.equal(body.status, 'ok')
  t.same(Object.keys(body.services).sort(), ['chroma', 'chromadb', 'funnel', 'nats', 'openai'])
  t.ok(Object.values(body.services).every((s) => s.status === 'up'))

  await openai.close()
  const down = await fetch(`${url}/health`)
  t.equal(down.status, 503)
  const degraded = await down.json() as typeof body
  t.equal(degraded.status, 'degraded')
  t.same(degraded.down, ['openai'])
  t.equal(degraded.services.openai?.status, 'down')
})

test('/health: a URL that reaches something else than a Skein service is down, naming the setting to check', async (t) => {
  const answer = (type: string, body: string) => (_req: unknown, res: import('node:http').ServerResponse): boolean => {
    res.writeHead(200, { 'content-type': type })
    res.end(body)
    return true
  }
  const otherApi = await upstream(t, 'another API', answer('application/json', JSON.stringify({ status: 'ok' })))
  const webServer = await upstream(t, 'a web server', answer('text/html', '<html>hello</html>'))
  const { url } = await build(t, { NATS_URL: (await nats(t)).url, OPENAI_SERVICE_URL: otherApi.url, CHROMA_SERVICE_URL: webServer.url, HEALTH_TIMEOUT_MS: '500' })
  const res = await fetch(`${url}/health`)
  t.equal(res.status, 503, 'degraded, not a crash')
  const body = await res.json() as { down: string[], services: Record<string, { status: string, message?: string }> }
  t.same(body.down, ['openai', 'chroma', 'chromadb'])
  t.match(body.services.openai, { status: 'down', message: /answered 200, but not with a Skein service's health: check OPENAI_SERVICE_URL/ }, 'another API\'s {"status":"ok"} is not taken for the openai-service')
  t.match(body.services.chroma, { status: 'down', message: /answered, but not with JSON: check CHROMA_SERVICE_URL/ })
})

test('/health names NATS when it is down', async (t) => {
  const { url, nats } = await funnel(t, { env: { HEALTH_TIMEOUT_MS: '300' } })
  await nats.kill()
  const res = await fetch(`${url}/health`)
  t.equal(res.status, 503)
  t.same((await res.json() as { down: string[] }).down, ['nats'])
})

test('every proxied path needs a token; health, docs and the dev login do not', async (t) => {
  const { url, openai } = await funnel(t)
  const before = openai.seen.length
  for (const path of ['/v1/models', '/api/collections', '/threads/main', '/docs/../v1/models']) {
    const res = await fetch(`${url}${path}`)
    t.equal(res.status, 401, path)
    t.equal((await res.json() as { error: { code: string } }).error.code, 'AUTH_MISSING_TOKEN')
  }
  t.equal(openai.seen.length, before, 'nothing unauthenticated reached the service')
  const expired = await fetch(`${url}/v1/models`, { headers: { authorization: 'Bearer x.y.z' } })
  t.equal(expired.status, 401)
  for (const path of ['/docs/', '/openai.json', '/api/openapi.json', '/api/docs/']) {
    const res = await fetch(`${url}${path}`)
    t.equal(res.status, 200, `${path} is public`)
  }
  const login = await fetch(`${url}/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"user":"alice"}' })
  t.equal(login.status, 200, 'the dev login reaches the openai-service without a token')
  const ws = await new Promise<number>((resolve) => {
    const socket = new WebSocket(`${url.replace('http', 'ws')}/ws`)
    socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
    socket.on('open', () => resolve(101))
  })
  t.equal(ws, 401, 'no 101 without a token')
})

test('CORS: the web app\'s origin is allowed, others are not', async (t) => {
  const { url } = await funnel(t, { env: { CORS_ORIGINS: 'http://127.0.0.1:3000' } })
  const allowed = await fetch(`${url}/v1/models`, { method: 'OPTIONS', headers: { origin: 'http://127.0.0.1:3000', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } })
  t.equal(allowed.headers.get('access-control-allow-origin'), 'http://127.0.0.1:3000')
  const foreign = await fetch(`${url}/v1/models`, { method: 'OPTIONS', headers: { origin: 'http://evil.example', 'access-control-request-method': 'GET' } })
  t.equal(foreign.headers.get('access-control-allow-origin'), null)
})
