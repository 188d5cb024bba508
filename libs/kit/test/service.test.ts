import { spawn } from 'node:child_process'
import { request as httpRequest } from 'node:http'
import { fileURLToPath } from 'node:url'
import { test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { createError } from '../src/index.js'
import { build } from './helper.js'

const Boom = createError('TEST_BOOM', 'the widget %s is broken', 409)

test('the error format: 400 names the failing field', async (t) => {
  const app = await build(t, async (f) => {
    f.post('/tasks', { schema: { body: Type.Object({ task: Type.String({ minLength: 1 }) }) } }, async () => ({ ok: true }))
  })
  const res = await app.inject({ method: 'POST', url: '/tasks', payload: { task: '' } })
  t.equal(res.statusCode, 400)
  t.same(Object.keys(res.json()), ['error'])
  t.equal(res.json().error.code, 'TEST_VALIDATION')
  t.match(res.json().error.message, /body\/task must NOT have fewer than 1 characters/)
})

test('the error format: malformed JSON, an unknown route, and a too-large body', async (t) => {
  const app = await build(t, async (f) => {
    f.post('/echo', async (req) => req.body)
  }, { BODY_LIMIT: '2048' })
  const bad = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: '{"a":' })
  t.equal(bad.statusCode, 400)
  t.equal(bad.json().error.code, 'TEST_BAD_REQUEST')
  const missing = await app.inject({ method: 'GET', url: '/nowhere?x=1' })
  t.equal(missing.statusCode, 404)
  t.same(missing.json(), { error: { code: 'TEST_NOT_FOUND', message: 'Route GET /nowhere not found' } })
  const big = await app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ a: 'x'.repeat(4096) }) })
  t.equal(big.statusCode, 413)
  t.equal(big.json().error.code, 'TEST_PAYLOAD_TOO_LARGE')
})

test('the error format: our own coded errors keep code and status; 5xx hide internals', async (t) => {
  const app = await build(t, async (f) => {
    f.get('/conflict', async () => { throw new Boom('left') })
    f.get('/crash', async () => { throw new Error('secret at 10.0.0.7:5432') })
  })
  const conflict = await app.inject({ url: '/conflict' })
  t.equal(conflict.statusCode, 409)
  t.same(conflict.json(), { error: { code: 'TEST_BOOM', message: 'the widget left is broken' } })
  const crash = await app.inject({ url: '/crash', headers: { 'x-request-id': 'req-42' } })
  t.equal(crash.statusCode, 500)
  t.equal(crash.json().error.code, 'TEST_INTERNAL')
  t.notMatch(crash.body, /secret|10\.0\.0\.7/)
  t.match(crash.json().error.message, /req-42/)
})

test('request ids: a sane incoming x-request-id is kept and echoed, anything else replaced', async (t) => {
  const app = await build(t, async (f) => {
    f.get('/id', async (req) => ({ id: req.id }))
  })
  const kept = await app.inject({ url: '/id', headers: { 'x-request-id': 'abc-123' } })
  t.equal(kept.json().id, 'abc-123')
  t.equal(kept.headers['x-request-id'], 'abc-123')
  const replaced = await app.inject({ url: '/id', headers: { 'x-request-id': 'bad id\nwith newline' } })
  t.match(replaced.json().id, /^[0-9a-f-]{36}$/)
  t.equal(replaced.headers['x-request-id'], replaced.json().id)
})

test('client addresses: X-Forwarded-For is believed from TRUST_PROXY\'s proxies only (real HTTP, two loopback addresses)', async (t) => {
  const ipOf = async (base: string, from: string, forwarded: string): Promise<string> => await new Promise((resolve, reject) => {
    const u = new URL(base)
    const r = httpRequest({ host: u.hostname, port: u.port, path: '/ip', localAddress: from, agent: false, headers: { 'x-forwarded-for': forwarded } }, (res) => {
      let body = ''
      res.on('data', (c: Buffer) => { body += c.toString() })
      res.on('end', () => resolve((JSON.parse(body) as { ip: string }).ip))
    })
    r.on('error', reject)
    r.end()
  })
  const route = async (f: FastifyInstance): Promise<void> => { f.get('/ip', async (req) => ({ ip: req.ip })) }
  const behind = await build(t, route, { TRUST_PROXY: '127.0.0.1' })
  const url = await behind.listen({ host: '127.0.0.1', port: 0 })
  t.equal(await ipOf(url, '127.0.0.1', '203.0.113.7'), '203.0.113.7', 'from the proxy: the address it forwards')
  t.equal(await ipOf(url, '127.0.0.2', '203.0.113.7'), '127.0.0.2', 'from anyone else: their own address, whatever they claim')
  const direct = await build(t, route)
  const directUrl = await direct.listen({ host: '127.0.0.1', port: 0 })
  t.equal(await ipOf(directUrl, '127.0.0.1', '203.0.113.7'), '127.0.0.1', 'without TRUST_PROXY: never believed')
})

test('health: 200 when every dependency is up, 503 naming the one that is down, bounded in time', async (t) => {
  let dbUp = true
  const app = await build(t, async (f) => {
    f.health.add('db', async () => {
      if (!dbUp) throw new Error('connection refused')
      return { status: 'up' }
    })
    f.health.add('slow', () => new Promise(() => {}))
  }, { HEALTH_TIMEOUT_MS: '100' })
  const first = await app.inject({ url: '/health' })
  t.equal(first.statusCode, 503)
  t.equal(first.json().status, 'degraded')
  t.equal(first.json().dependencies.db.status, 'up')
  t.same(first.json().dependencies.slow, { status: 'down', message: 'no answer within 100 ms' })
  t.equal(first.json().service, 'test-service')
  t.equal(first.json().version, '1.2.3')
  dbUp = false
  const second = await app.inject({ url: '/health' })
  t.equal(second.json().dependencies.db.status, 'down')
  t.equal(second.json().dependencies.db.message, 'connection refused')
})

test('health: ok when all are up', async (t) => {
  const app = await build(t, async (f) => {
    f.health.add('db', () => ({ status: 'up' }))
  })
  const res = await app.inject({ url: '/health' })
  t.equal(res.statusCode, 200)
  t.equal(res.json().status, 'ok')
})

test('OpenAPI: the spec at its own URL lists the routes; the UI answers', async (t) => {
  const app = await build(t, async (f) => {
    f.get('/things', { schema: { tags: ['things'], response: { 200: Type.Array(Type.String()) } } }, async () => [])
  })
  const spec = await app.inject({ url: '/spec.json' })
  t.equal(spec.statusCode, 200)
  t.equal(spec.json().openapi, '3.1.0')
  t.ok(spec.json().paths['/things'])
  t.ok(spec.json().paths['/health'])
  const ui = await app.inject({ url: '/docs/' })
  t.equal(ui.statusCode, 200)
  t.match(ui.headers['content-type'], /text\/html/)
})

test('logging: authorization, cookies, keys and tokens in URLs are redacted in what the service writes', async (t) => {
  // The kit's pino logger writes to the process's stdout: run a small service in a process of its own and read it.
  const loader = process.execArgv.filter((a) => a.includes('@tapjs/typescript'))
  const child = spawn(process.execPath, [...loader, fileURLToPath(new URL('./fixtures/logging-service.ts', import.meta.url))], { env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', (c: Buffer) => { out += c.toString() })
  child.stderr.on('data', (c: Buffer) => { err += c.toString() })
  const code = await new Promise((resolve) => child.once('exit', resolve))
  t.equal(code, 0, `the service ran (${err.slice(0, 500)})`)
  const lines = out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>) // eslint-disable-line @typescript-eslint/no-explicit-any
  const seen = lines.find((l) => l.msg === 'the request headers')
  t.ok(seen, 'the headers were logged')
  t.equal(seen?.headers.authorization, '[redacted]')
  t.equal(seen?.headers.cookie, '[redacted]')
  t.equal(seen?.headers['x-api-key'], '[redacted]')
  const backend = lines.find((l) => l.msg === 'a backend and the config')
  t.equal(backend?.backend.apiKey, '[redacted]', 'a backend\'s apiKey')
  t.equal(backend?.config.JWT_SECRET, '[redacted]')
  t.equal(backend?.config.OPENAI_API_KEY, '[redacted]')
  const incoming = lines.filter((l) => l.msg === 'incoming request').map((l) => l.req.url)
  t.same(incoming, ['/headers', '/backend?token=[redacted]&room=main', '/broken?token=[redacted]'], 'request URLs are logged without their token')
  t.equal(lines.find((l) => l.msg === 'request failed')?.url, '/broken?token=[redacted]', 'nor the URL of a failed request')
  t.equal(lines.find((l) => /no websocket handler/.test(l.msg))?.path, '/broken?token=[redacted]', 'nor a path a plugin logs')
  t.ok(lines.every((l) => typeof l.reqId === 'string' || l.req === undefined), 'each request line carries its request id')
  for (const secret of ['Bearer x', 'cookie-value', 'api-key-value', 'sk-live-backend-key', 'jwt-secret-in-config', 'sk-live-config-key', 'query-token-value', 'failing-token-value']) {
    t.notOk(out.includes(secret), `"${secret}" appears nowhere in the logs`)
  }
})

test('shutdown: close() lets a request under way finish, refuses new ones, and runs the onClose hooks at once', async (t) => {
  let started!: () => void
  const running = new Promise<void>((resolve) => { started = resolve })
  let drained = false
  const app = await build(t, async (f) => {
    f.addHook('onClose', async () => { drained = true }) // where a service drains NATS
    f.get('/slow', async () => {
      started()
      await new Promise((resolve) => setTimeout(resolve, 300))
      return { done: true }
    })
  })
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  const inFlight = fetch(`${url}/slow`) // a keep-alive client, as the funnel's proxy is
  await running
  const closing = app.close()
  const res = await inFlight
  t.equal(res.status, 200, 'the request under way is answered')
  t.same(await res.json(), { done: true })
  t.equal(res.headers.get('connection'), 'close', 'and the client is told to drop the connection')
  const refused = await fetch(`${url}/slow`).then((r) => r.status, () => 'no connection')
  t.not(refused, 200, `a request after close() is not served (${refused})`)
  const closed = await Promise.race([closing.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), 3_000))])
  t.ok(closed, 'close() resolves as soon as the request is done, not after the keep-alive timeout (72 s)')
  t.ok(drained, 'the onClose hooks ran')
})
