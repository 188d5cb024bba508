import { connect, type Socket } from 'node:net'
import t from 'tap'
import type { WebSocket } from 'ws'
import { auth, build, nats, threadsEngine, token } from './helper.js'
import { OP, RawWs, browserLoad, buildFrame, chromaStandIn, closeSocket, handshake, rawUpgrade, recordingProxy, send, tripwire, type Answer } from './hostile-clients.js'
import { WsClient } from '@skein/stack'

// What attackers and broken clients send, through one real funnel (real NATS, the real openai-service and the
// simulator behind it, a stand-in chroma-service), while a bystander's streamed answer runs from the first test
// to the last: every refusal must be clear, and nobody else may notice it.
//
// All clients are on the loopback, but each test speaks from its own 127.0.0.x so that its per-address
// counters (rate limit, socket cap) are its own.

const LIMITS = {
  RATE_LIMIT_PER_MINUTE: 100,
  RATE_LIMIT_ANON_PER_MINUTE: 60,
  WS_MAX_SOCKETS_PER_USER: 4,
  WS_MAX_SOCKETS_PER_ADDRESS: 8,
  REQUEST_TIMEOUT_MS: 1_500,
  HTTP_MAX_HEADER_BYTES: 8_192
}
const STORY_WORDS = 1_800

const n = await nats(t)
const engine = await threadsEngine(t, n.url, { SIM_TOKENS_PER_SECOND: '60' })
const openai = await recordingProxy(t, engine.url)
const chroma = await chromaStandIn(t)
const { app, url } = await build(t, {
  NATS_URL: n.url,
  OPENAI_SERVICE_URL: openai.url,
  CHROMA_SERVICE_URL: chroma.url,
  CORS_ORIGINS: 'http://127.0.0.1:3000,http://localhost:3000',
  ...Object.fromEntries(Object.entries(LIMITS).map(([k, v]) => [k, String(v)]))
})

// Every connection the funnel accepts, to check at the end that no attacker's is left open.
const accepted: Socket[] = []
app.server.on('connection', (socket: Socket) => accepted.push(socket))

// The bystander: a room with a long answer streaming into it, started before any attack.
const bystander = await WsClient.connect(url, token('bystander'))
t.teardown(() => bystander.close())
await bystander.request('create_room', { room: 'lighthouse' })
await bystander.request('join_room', { room: 'lighthouse' })
const story = await bystander.request('llm_request', { room: 'lighthouse', message: `Tell me about lighthouses in ${STORY_WORDS} words` })
const storyTokens = (): Array<Record<string, unknown>> => bystander.of('llm_token').filter((x) => x.messageId === story.messageId)
await bystander.until(() => storyTokens().length >= 10, 30_000)

// A real browser loads both Swagger UI pages while the attacks run (it is the slowest client: it starts now).
const browsing = Promise.all([browserLoad(`${url}/docs/`), browserLoad(`${url}/api/docs/`)])
browsing.catch(() => { /* awaited, and reported, by its test */ })

const codeOf = (a: Answer): string | undefined => {
  try {
    return a.json().error?.code
  } catch {
    return undefined
  }
}

t.test('HTTP rate limits: per user by the token, per address without one; 429 with retry-after; /health never limited', async (t) => {
  const from = '127.0.0.10'
  const hammer = auth('hammer')
  const answers = await Promise.all(Array.from({ length: LIMITS.RATE_LIMIT_PER_MINUTE + 5 }, async (_x, i) => await send(url, { path: '/api/collections', headers: { ...hammer, 'x-request-id': `hammer-${i}` }, from })))
  const ok = answers.filter((a) => a.status === 200)
  const refused = answers.filter((a) => a.status === 429)
  t.equal(ok.length, LIMITS.RATE_LIMIT_PER_MINUTE, 'a user gets RATE_LIMIT_PER_MINUTE requests a minute')
  t.equal(refused.length, 5, 'and no more')
  t.equal(chroma.seen.filter((s) => s.id.startsWith('hammer-')).length, LIMITS.RATE_LIMIT_PER_MINUTE, 'the refused ones never reached the service')
  const r = refused[0]!
  t.match(r.json(), { error: { code: 'FUNNEL_RATE_LIMITED', message: /user hammer.*RATE_LIMIT_PER_MINUTE.*try again in \d+ s/ } })
  t.ok(Number(r.headers['retry-after']) >= 1 && Number(r.headers['retry-after']) <= 60, `retry-after: ${String(r.headers['retry-after'])}`)
  t.equal(r.headers['x-ratelimit-limit'], String(LIMITS.RATE_LIMIT_PER_MINUTE))
  t.equal(r.headers['x-ratelimit-remaining'], '0')

  t.equal((await send(url, { path: '/api/collections', headers: auth('neighbour'), from })).status, 200, 'another user at the same address is not limited')
  t.equal((await send(url, { path: '/api/openapi.json', from })).status, 200, 'nor is that address without a token')
  const ws = await handshake(url, { token: token('hammer'), from: '127.0.0.13' })
  t.equal(ws.status, 429, 'the user is limited on the funnel\'s own routes too (a WebSocket handshake), from any address')
  t.equal(JSON.parse(ws.body).error.code, 'FUNNEL_RATE_LIMITED')
  t.same(await rawUpgrade(url, token('hammer'), '127.0.0.13'), { status: 429, closedByServer: true }, 'the funnel closes a refused upgrade\'s connection itself')

  // Without a valid token, by address: no token, a garbage token and an expired one all count.
  const anon = '127.0.0.11'
  const tries = await Promise.all(Array.from({ length: LIMITS.RATE_LIMIT_ANON_PER_MINUTE + 3 }, async (_x, i) => await send(url, {
    path: '/v1/models',
    from: anon,
    headers: i % 3 === 0 ? {} : { authorization: `Bearer ${i % 3 === 1 ? 'garbage' : token('hammer', -60)}` }
  })))
  t.equal(tries.filter((a) => a.status === 401).length, LIMITS.RATE_LIMIT_ANON_PER_MINUTE, 'RATE_LIMIT_ANON_PER_MINUTE refusals of the token')
  const anonRefused = tries.filter((a) => a.status === 429)
  t.equal(anonRefused.length, 3, 'then 429')
  t.match(anonRefused[0]!.json(), { error: { code: 'FUNNEL_RATE_LIMITED', message: /without a valid token.*RATE_LIMIT_ANON_PER_MINUTE/ } })
  t.ok(Number(anonRefused[0]!.headers['retry-after']) >= 1)
  t.equal((await send(url, { path: '/docs/json', from: anon })).status, 429, 'public paths count for the address too')
  t.equal((await send(url, { path: '/health/funnel', from: anon })).status, 200, '/health/funnel is never limited')
  t.equal((await send(url, { path: '/health', from: anon })).status, 200, '/health is never limited')
  t.equal((await send(url, { path: '/api/collections', headers: auth('someone'), from: anon })).status, 200, 'a valid token at that address is counted for its user')
  t.equal((await send(url, { path: '/v1/models', from: '127.0.0.12' })).status, 401, 'another address is not limited')
})

t.test('security headers on every answer: proxied, the funnel\'s own, refusals', async (t) => {
  const from = '127.0.0.14'
  const answers: Array<[string, Answer]> = [
    ['proxied 200', await send(url, { path: '/v1/models', headers: auth('header-check'), from })],
    ['/health', await send(url, { path: '/health', from })],
    ['/health/funnel', await send(url, { path: '/health/funnel', from })],
    ['401', await send(url, { path: '/threads/main', from })],
    ['400 bad path', await send(url, { path: '/api/%2e%2e/threads', headers: auth('header-check'), from })],
    // The address the rate-limit test used up.
    ['429', await send(url, { path: '/v1/models', from: '127.0.0.11' })],
    ['refused handshake', await send(url, { path: '/ws', headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', origin: 'https://evil.example', ...auth('header-check') }, from })],
    ['Swagger UI', await send(url, { path: '/docs/', from })]
  ]
  for (const [what, a] of answers) {
    t.equal(a.headers['x-content-type-options'], 'nosniff', `${what}: nosniff`)
    t.equal(a.headers['x-frame-options'], 'DENY', `${what}: no framing`)
    t.match(a.headers['content-security-policy'], /default-src 'self'.*frame-ancestors 'none'.*object-src 'none'.*script-src 'self'/, `${what}: a CSP`)
    t.notMatch(a.headers['content-security-policy'] ?? '', /upgrade-insecure-requests|unsafe-eval/, `${what}: nothing the funnel does not need`)
    t.equal(a.headers['referrer-policy'], 'no-referrer', `${what}: no referrer`)
    t.equal(a.headers['cross-origin-opener-policy'], 'same-origin', `${what}: COOP`)
    t.equal(a.headers['cross-origin-resource-policy'], 'same-site', `${what}: CORP`)
    t.match(a.headers['strict-transport-security'], /max-age=\d+/, `${what}: HSTS`)
  }
  const media = await send(url, { path: '/media/img-1', headers: auth('header-check'), from })
  t.equal(media.headers['cross-origin-resource-policy'], 'cross-origin', 'media may be embedded from another site (the web app\'s <img>)')
  t.equal(media.headers['x-content-type-options'], 'nosniff', 'with the other headers as they are')
  t.same(answers.map(([what, a]) => [what, a.status]), [['proxied 200', 200], ['/health', 200], ['/health/funnel', 200], ['401', 401], ['400 bad path', 400], ['429', 429], ['refused handshake', 403], ['Swagger UI', 200]])
})

t.test('CORS: only the listed origins get access-control-allow-origin, preflights included', async (t) => {
  const from = '127.0.0.16'
  const allowed = 'http://127.0.0.1:3000'
  const get = await send(url, { path: '/v1/models', headers: { ...auth('cors'), origin: allowed }, from })
  t.equal(get.status, 200)
  t.equal(get.headers['access-control-allow-origin'], allowed, 'an allowed origin is named back')
  t.match(get.headers.vary, /Origin/i, 'and caches know the answer depends on it')
  const pre = await send(url, { method: 'OPTIONS', path: '/v1/chat/completions', headers: { origin: allowed, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' }, from })
  t.equal(pre.status, 204)
  t.equal(pre.headers['access-control-allow-origin'], allowed, 'preflight: allowed')
  t.notOk(pre.headers['access-control-allow-credentials'], 'no credentials: Skein authenticates with a token, not cookies')
  for (const origin of ['https://evil.example', 'http://127.0.0.1:3000.evil.example', 'http://127.0.0.1:30000', 'null', 'http://127.0.0.1']) {
    const foreign = await send(url, { path: '/v1/models', headers: { ...auth('cors'), origin }, from })
    t.equal(foreign.headers['access-control-allow-origin'], undefined, `${origin}: no access-control-allow-origin on a GET`)
    const preflight = await send(url, { method: 'OPTIONS', path: '/v1/chat/completions', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' }, from })
    t.equal(preflight.headers['access-control-allow-origin'], undefined, `${origin}: nor on its preflight (the browser refuses the call)`)
  }
  t.equal((await handshake(url, { token: token('cors'), origin: 'https://evil.example', from })).status, 403, 'a foreign origin opens no WebSocket')
  const opened = await handshake(url, { token: token('cors'), origin: allowed, from })
  t.equal(opened.status, 101, 'the web app\'s does')
  await closeSocket(opened.socket!)
})

t.test('floods of WebSocket connections: per user and per address caps, refused with 429 before the upgrade', async (t) => {
  const open: WebSocket[] = []
  t.teardown(async () => { await Promise.all(open.map(closeSocket)) })
  const accept = async (user: string, from: string): Promise<WebSocket> => {
    const h = await handshake(url, { token: token(user), from })
    if (!h.socket) throw new Error(`${user} from ${from} was refused: ${h.status} ${h.body}`)
    open.push(h.socket)
    return h.socket
  }

  const mine = await Promise.all(Array.from({ length: LIMITS.WS_MAX_SOCKETS_PER_USER }, async () => await accept('crowd', '127.0.0.30')))
  const over = await handshake(url, { token: token('crowd'), from: '127.0.0.31' })
  t.equal(over.status, 429, 'one socket over WS_MAX_SOCKETS_PER_USER, from any address: 429, no 101')
  t.match(JSON.parse(over.body), { error: { code: 'FUNNEL_TOO_MANY_SOCKETS', message: /user crowd .*WS_MAX_SOCKETS_PER_USER/ } })
  await closeSocket(mine[0]!)
  const again = await waitFor(async () => await handshake(url, { token: token('crowd'), from: '127.0.0.30' }), (h) => h.status === 101)
  t.equal(again.status, 101, 'a socket closed gives its slot back')
  open.push(again.socket!)

  await Promise.all(Array.from({ length: LIMITS.WS_MAX_SOCKETS_PER_ADDRESS }, async (_x, i) => await accept(`tenant-${i}`, '127.0.0.32')))
  const crowded = await handshake(url, { token: token('tenant-new'), from: '127.0.0.32' })
  t.equal(crowded.status, 429, 'one socket over WS_MAX_SOCKETS_PER_ADDRESS: 429')
  t.match(JSON.parse(crowded.body), { error: { code: 'FUNNEL_TOO_MANY_SOCKETS', message: /address .*WS_MAX_SOCKETS_PER_ADDRESS/ } })
  const elsewhere = await handshake(url, { token: token('tenant-new'), from: '127.0.0.33' })
  t.equal(elsewhere.status, 101, 'the same user from another address is let in')
  open.push(elsewhere.socket!)
  t.same(await rawUpgrade(url, token('crowd'), '127.0.0.35'), { status: 429, closedByServer: true }, 'a refused handshake\'s connection is closed by the funnel')

  // A burst: 40 handshakes at once from one address. Exactly the cap gets in, even while they race.
  const sessionsBefore = app.realtime.sessions.size
  const burst = await Promise.all(Array.from({ length: 40 }, async (_x, i) => await handshake(url, { token: token(`burst-${i}`), from: '127.0.0.34' })))
  const upgraded = burst.filter((h) => h.status === 101)
  t.equal(upgraded.length, LIMITS.WS_MAX_SOCKETS_PER_ADDRESS, 'a burst from one address gets exactly the cap')
  t.equal(burst.filter((h) => h.status === 429).length, 40 - LIMITS.WS_MAX_SOCKETS_PER_ADDRESS, 'the rest: 429')
  t.equal(app.realtime.sessions.size, sessionsBefore + LIMITS.WS_MAX_SOCKETS_PER_ADDRESS, 'no session exists for a refused handshake')
  await Promise.all(upgraded.map(async (h) => await closeSocket(h.socket!)))
  await waitFor(async () => app.realtime.sessions.size, (size) => size === sessionsBefore)
  t.equal(app.realtime.sessions.size, sessionsBefore, 'closed sockets leave nothing behind')
  const late = await handshake(url, { token: token('burst-late'), from: '127.0.0.34' })
  t.equal(late.status, 101, 'and their address may connect again')
  if (late.socket) open.push(late.socket)
})

t.test('malformed WebSocket frames: the socket is closed with the RFC 6455 code, the funnel carries on', async (t) => {
  const text = (s: string): Buffer => Buffer.from(s)
  const cases: Array<[string, Buffer, number]> = [
    ['a text frame that is not UTF-8', buildFrame({ opcode: OP.text, payload: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) }), 1007],
    ['a text frame with an overlong UTF-8 encoding', buildFrame({ opcode: OP.text, payload: Buffer.from([0xc0, 0xaf]) }), 1007],
    ['a frame with RSV1 set (no extension was agreed)', buildFrame({ opcode: OP.text, rsv1: true, payload: text('{}') }), 1002],
    ['a frame with RSV2 and RSV3 set', buildFrame({ opcode: OP.text, rsv2: true, rsv3: true, payload: text('{}') }), 1002],
    ['a ping over 125 bytes', buildFrame({ opcode: OP.ping, payload: Buffer.alloc(200, 0x61) }), 1002],
    ['a fragmented ping', buildFrame({ opcode: OP.ping, fin: false, payload: text('x') }), 1002],
    ['an unmasked client frame', buildFrame({ opcode: OP.text, mask: false, payload: text('{"event":"get_stats","data":{}}') }), 1002],
    ['a reserved opcode', buildFrame({ opcode: OP.reserved3, payload: text('x') }), 1002],
    ['a continuation with no message to continue', buildFrame({ opcode: OP.continuation, payload: text('x') }), 1002],
    ['a close frame whose reason is not UTF-8', buildFrame({ opcode: OP.close, payload: Buffer.from([0x03, 0xe8, 0xff, 0xfe]) }), 1007],
    ['a frame declaring 2^62 bytes', buildFrame({ opcode: OP.binary, payload: Buffer.alloc(0), declaredLength: 2n ** 62n }), 1009]
  ]
  for (const [what, bytes, expected] of cases) {
    const raw = await RawWs.open(url, token('raw-frames'), '127.0.0.40')
    await raw.until(() => raw.frames.some((f) => f.opcode === OP.text && f.payload.toString().includes('"status"')))
    raw.write(bytes)
    const closed = await raw.until(() => raw.ended, 5_000)
    raw.destroy()
    t.ok(closed, `${what}: the funnel closed the connection`)
    t.equal(raw.closeCode, expected, `${what}: close code ${expected} (${raw.closeReason})`)
  }
  const after = await WsClient.connect(url, token('raw-frames'))
  t.teardown(() => after.close())
  t.match(await after.request('get_stats'), { sockets: Number }, 'a well-behaved client is served right after')
  t.equal(bystander.closed, null, 'the bystander is still connected')
})

t.test('path traversal through the proxy: refused at the edge, nothing reaches an upstream', async (t) => {
  const from = '127.0.0.50'
  const paths = [
    '/api/../threads/main',
    '/api/%2e%2e/auth/token',
    '/api/%2e%2e%2fthreads',
    '/api/health/../../threads/main',
    '/api/%2E%2E/threads/main',
    '/api/.%2e/threads/main',
    '/api/%252e%252e/threads/main',
    '/api/docs/%252e%252e/%252e%252e/threads/main',
    '/api/docs/%25252e%25252e/%25252e%25252e/threads/main',
    '/api/health/..%5c..%5cthreads/main',
    '/api/health/%5c..%5c..%5cthreads/main',
    '/api/\\..\\threads/main',
    '/api/docs/\\..\\..\\threads/main',
    '/api/docs/..%252f..%252fthreads/main',
    '/docs/..%2f..%2fthreads/main',
    '/docs/%2e%2e/threads/main',
    '/api/%c0%ae%c0%ae/threads/main',
    '/api/%2e%2e%00/threads/main',
    '/api/./collections',
    '/health/../threads/main',
    '/ws/../threads/main'
  ]
  let sent = 0
  for (const path of paths) {
    for (const headers of [{}, auth('walker')]) {
      const a = await send(url, { path, headers: { ...headers, 'x-request-id': `climb-${sent++}` }, from })
      const withToken = 'authorization' in headers
      t.ok(a.status >= 400 && a.status < 500, `${path} ${withToken ? 'with' : 'without'} a token: ${a.status} ${codeOf(a) ?? a.body.slice(0, 80)}`)
      if (withToken) t.equal(codeOf(a), 'FUNNEL_BAD_PATH', `${path}: refused as a bad path`)
      else t.match(codeOf(a), /^(AUTH_MISSING_TOKEN|FUNNEL_BAD_PATH)$/, `${path}: refused before anything else`)
    }
  }
  const login = await send(url, { method: 'POST', path: '/api/%2e%2e/auth/token', headers: { 'x-request-id': 'climb-login' }, body: JSON.stringify({ user: 'mallory' }), from })
  t.equal(login.status, 401, 'no way round to the dev login')
  t.same(chroma.seen.filter((s) => s.id.startsWith('climb-')), [], 'the chroma-service saw none of it')
  t.same(openai.seen.filter((s) => s.id.startsWith('climb-')), [], 'nor did the openai-service')

  const fine = await send(url, { path: '/api/collections/a...b', headers: { ...auth('walker'), 'x-request-id': 'dots' }, from })
  t.equal(fine.status, 200, 'three dots are a name, not a climb')
  t.equal(chroma.seen.find((s) => s.id === 'dots')?.url, '/api/collections/a...b')
})

t.test('huge headers and query strings: 431 in the error format; a big but legal query passes', async (t) => {
  const from = '127.0.0.60'
  const headers = await send(url, { path: '/v1/models', headers: { ...auth('bulky'), 'x-junk': 'a'.repeat(LIMITS.HTTP_MAX_HEADER_BYTES + 100) }, from })
  t.equal(headers.status, 431, 'headers over HTTP_MAX_HEADER_BYTES')
  t.same(headers.json(), { error: { code: 'FUNNEL_HEADERS_TOO_LARGE', message: 'The request line and headers (the query string included) are larger than HTTP_MAX_HEADER_BYTES allows' } })
  const many = await send(url, { path: '/v1/models', headers: { ...auth('bulky'), ...Object.fromEntries(Array.from({ length: 600 }, (_x, i) => [`x-h${i}`, 'abcdefghij'])) }, from })
  t.equal(many.status, 431, 'many small headers add up the same')
  const query = await send(url, { path: `/api/collections?q=${'b'.repeat(LIMITS.HTTP_MAX_HEADER_BYTES + 100)}`, headers: auth('bulky'), from })
  t.equal(query.status, 431, 'a query string over the limit')
  t.equal(codeOf(query), 'FUNNEL_HEADERS_TOO_LARGE')
  const params = await send(url, { path: `/api/collections?${Array.from({ length: 700 }, (_x, i) => `k${i}=v`).join('&')}`, headers: { ...auth('bulky'), 'x-request-id': 'params' }, from })
  t.equal(params.status, 200, 'hundreds of parameters within the limit are passed on')
  t.match(chroma.seen.find((s) => s.id === 'params')?.url, /^\/api\/collections\?k0=v&k1=v/)
})

t.test('slow requests, idle connections: cut after REQUEST_TIMEOUT_MS, without holding anything', async (t) => {
  const u = new URL(url)
  const limit = LIMITS.REQUEST_TIMEOUT_MS + 1_500
  // Writes `head`, then `drip` a byte every 200 ms; gives up (ms: Infinity) if the funnel has not cut it by `limit`.
  const dribble = async (head: string, drip: string, from: string): Promise<{ ms: number, answer: string }> => await new Promise((resolve) => {
    const started = Date.now()
    const socket = connect({ host: u.hostname, port: Number(u.port), localAddress: from })
    let answer = ''
    let i = 0
    socket.on('data', (c: Buffer) => { answer += c.toString() })
    socket.on('error', () => { /* cut off */ })
    socket.on('close', () => {
      clearInterval(timer)
      clearTimeout(giveUp)
      resolve({ ms: Date.now() - started, answer })
    })
    socket.write(head)
    const timer = setInterval(() => { if (i < drip.length && !socket.destroyed) socket.write(drip[i++]!) }, 200)
    const giveUp = setTimeout(() => {
      clearInterval(timer)
      resolve({ ms: Infinity, answer })
      socket.destroy()
    }, limit + 1_000)
  })
  const body = JSON.stringify({ name: 'x'.repeat(80) })
  const [slowBody, slowHeaders] = await Promise.all([
    dribble(`POST /api/collections HTTP/1.1\r\nHost: ${u.host}\r\n${headerLines({ ...auth('slow'), 'x-request-id': 'slow-body' })}content-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`, body, '127.0.0.70'),
    dribble('GET /v1/models HTTP/1.1\r\n', `Host: ${u.host}\r\nx-slow: ${'z'.repeat(60)}\r\n\r\n`, '127.0.0.71')
  ])
  for (const [what, r] of [['a body sent a byte at a time', slowBody], ['headers sent a byte at a time', slowHeaders]] as const) {
    t.ok(r.ms < limit, `${what}: cut after ${r.ms} ms (REQUEST_TIMEOUT_MS ${LIMITS.REQUEST_TIMEOUT_MS}; the whole would take ${body.length * 200} ms)`)
    t.match(r.answer, /^HTTP\/1\.1 408 Request Timeout\r\n/, `${what}: 408`)
    t.match(r.answer, /"code":"FUNNEL_REQUEST_TIMEOUT"/, `${what}: in the error format`)
  }
  const upstream = chroma.seen.find((s) => s.id === 'slow-body')
  await waitFor(async () => upstream?.complete, (c) => c !== undefined)
  t.equal(upstream?.complete, false, 'the upstream request was abandoned with the client, its body never completed')

  // A flood of connections that never send a byte: each is dropped at the same deadline.
  const idle = await Promise.all(Array.from({ length: 100 }, async () => await new Promise<number>((resolve) => {
    const started = Date.now()
    const s = connect({ host: u.hostname, port: Number(u.port), localAddress: '127.0.0.72' })
    const giveUp = setTimeout(() => { resolve(Infinity); s.destroy() }, limit + 1_000)
    s.on('error', () => { /* dropped */ })
    s.on('close', () => { clearTimeout(giveUp); resolve(Date.now() - started) })
  })))
  t.equal(idle.filter((ms) => ms >= limit).length, 0, `100 idle connections all dropped by the funnel, the last after ${Math.max(...idle)} ms`)
  const held = (): string[] => accepted.filter((s) => !s.destroyed && ['127.0.0.70', '127.0.0.71', '127.0.0.72'].includes(s.remoteAddress ?? '')).map((s) => `${s.remoteAddress}:${s.remotePort}`)
  t.same(held(), [], 'the funnel holds none of their connections')
  t.equal((await send(url, { path: '/health/funnel' })).status, 200, 'and answers at once')
})

t.test('no URL a user sends is fetched: image_url parts, absolute request targets, Host headers', async (t) => {
  const wire = await tripwire(t)
  const from = '127.0.0.80'
  const chat = await send(url, {
    method: 'POST',
    path: '/v1/chat/completions',
    headers: auth('curious'),
    from,
    body: JSON.stringify({
      model: 'skein-sim-1',
      messages: [
        { role: 'system', content: `Fetch ${wire.url}/system-prompt before answering.` },
        {
          role: 'user',
          content: [
            { type: 'text', text: `Describe the picture at ${wire.url}/secret.png in 5 words` },
            { type: 'image_url', image_url: { url: `${wire.url}/secret.png`, detail: 'high' } },
            { type: 'input_image', image_url: `${wire.url}/other.png` },
            { type: 'file', file: { file_url: `${wire.url}/doc.pdf` } }
          ]
        }
      ]
    })
  })
  t.equal(chat.status, 200, 'the chat completion is answered')
  t.match(chat.json(), { object: 'chat.completion', choices: [{ message: { role: 'assistant' } }] })

  const absolute = await send(url, { path: `${wire.url}/through-the-funnel`, headers: auth('curious'), from })
  t.equal(absolute.status, 400, 'an absolute-form request target is refused')
  t.equal(codeOf(absolute), 'FUNNEL_BAD_PATH')
  const viaHost = await send(url, { path: '/v1/models', headers: { ...auth('curious'), host: `127.0.0.1:${wire.port}`, 'x-forwarded-host': `127.0.0.1:${wire.port}`, 'x-request-id': 'via-host' }, from })
  t.equal(viaHost.status, 200, 'a Host header naming another address changes nothing: the configured upstream answers')
  t.equal(openai.seen.find((s) => s.id === 'via-host')?.url, '/v1/models')
  const ws = await WsClient.connect(url, token('curious'))
  t.teardown(() => ws.close())
  await ws.request('create_room', { room: 'curious' })
  await ws.request('join_room', { room: 'curious' })
  const asked = await ws.request('llm_request', { room: 'curious', message: `Summarise ${wire.url}/page in 5 words` })
  await ws.next((f) => f.event === 'llm_complete' && f.data.messageId === asked.messageId, 30_000)
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.equal(wire.hits(), 0, 'nothing connected to the internal address')
})

t.test('the Swagger UI pages work under the CSP: in a real browser, through the funnel', async (t) => {
  for (const page of ['/docs/', '/api/docs/']) {
    const html = await send(url, { path: page, from: '127.0.0.15' })
    t.equal(html.status, 200, `${page} loads`)
    t.match(html.headers['content-type'], /text\/html/)
    t.notMatch(html.body, /<script(?![^>]*\bsrc=)[^>]*>/i, `${page}: no inline script (script-src 'self' would block it)`)
    const assets = [...html.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => new URL(m[1]!, `${url}${page}`).pathname)
    t.ok(assets.length >= 5, `${page} names its assets: ${assets.join(', ')}`)
    for (const asset of [...assets, `${page}json`]) {
      const a = await send(url, { path: asset, from: '127.0.0.15' })
      t.equal(a.status, 200, `${asset} loads`)
      t.ok(a.body.length > 0, `${asset} is not empty`)
    }
  }
  // The browser ran the pages' scripts under the funnel's CSP: they must have rendered the API, fetched from /json.
  const [docs, apiDocs] = await browsing
  for (const [page, loaded, title] of [['/docs/', docs, /Skein openai-service/], ['/api/docs/', apiDocs, /Skein chroma-service \(stand-in\)/]] as const) {
    t.match(loaded.dom, /class="swagger-ui/, `${page}: Swagger UI rendered`)
    t.match(loaded.dom, title, `${page}: the spec was fetched and shown`)
    t.match(loaded.dom, /class="opblock /, `${page}: with its operations`)
    t.same(loaded.console.filter((l) => /Content Security Policy/i.test(l)), [], `${page}: no CSP violation`)
  }
})

t.test('the bystander got its whole answer, every token exactly once, and the funnel is healthy', async (t) => {
  const whileAttacked = storyTokens().length
  t.equal(bystander.of('llm_complete').filter((x) => x.messageId === story.messageId).length, 0, `the answer was still streaming when the attacks ended (${whileAttacked} of ${STORY_WORDS} tokens)`)
  const done = (await bystander.next((f) => f.event === 'llm_complete' && f.data.messageId === story.messageId, 60_000)).data
  const tokens = storyTokens()
  t.equal(tokens.length, STORY_WORDS, 'every token arrived')
  t.same(tokens.map((x) => x.index), tokens.map((_x, i) => i), 'each once, in order')
  t.equal(tokens.map((x) => x.token).join(''), done.text, 'llm_complete carries exactly the tokens joined')
  t.equal(done.finishReason, 'stop')
  t.equal(bystander.closed, null, 'never disconnected')
  t.equal((await send(url, { path: '/health/funnel' })).status, 200, '/health/funnel: 200')
  const left = accepted.filter((s) => !s.destroyed && s.remoteAddress !== '127.0.0.1').map((s) => `${s.remoteAddress}:${s.remotePort}`)
  t.same(left, [], 'no attacker\'s connection is left open')
})

function headerLines (h: Record<string, string>): string {
  return Object.entries(h).map(([k, v]) => `${k}: ${v}\r\n`).join('')
}

async function waitFor<T> (probe: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await probe()
    if (ok(value) || Date.now() > deadline) return value
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
