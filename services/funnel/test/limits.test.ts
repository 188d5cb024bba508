import t from 'tap'
import { WebSocket } from 'ws'
import { build, nats, threadsEngine, token } from './helper.js'
import { send } from './hostile-clients.js'
import { WsClient } from '@skein/stack'

// A funnel with small limits, so that they are reached quickly: a 256 KiB send buffer per socket. The slow
// client below reads again only once every message is stored, so it has a long grace to read its close frame.
const n = await nats(t)
const engine = await threadsEngine(t, n.url)
const env = { NATS_URL: n.url, OPENAI_SERVICE_URL: engine.url, CHROMA_SERVICE_URL: 'http://127.0.0.1:9' }
const { url } = await build(t, { ...env, WS_MAX_BUFFERED_BYTES: '262144', WS_CLOSE_GRACE_MS: '60000', WS_RATE_PER_S: '1000', WS_RATE_BURST: '1000' })

t.test('a client that stops reading is closed as a slow consumer (4008) and loses nothing when it resumes', async (t) => {
  const writer = await WsClient.connect(url, token('writer'))
  t.teardown(() => writer.close())
  await writer.request('create_room', { room: 'firehose' })
  await writer.request('join_room', { room: 'firehose' })
  const slow = await WsClient.connect(url, token('slow'))
  await slow.request('join_room', { room: 'firehose' })
  const seen = lastSeq(slow)
  // Another slow client, on a second funnel that gives a closed socket only 300 ms to read its close frame.
  const { url: brisk } = await build(t, { ...env, WS_MAX_BUFFERED_BYTES: '262144', WS_CLOSE_GRACE_MS: '300' })
  const cut = await WsClient.connect(brisk, token('cut'))
  await cut.request('join_room', { room: 'firehose' })
  // The slow clients' processes stop reading their sockets: the kernel's buffers fill, then the funnels'.
  const tcp = (c: WsClient): { pause: () => void, resume: () => void } => (c.socket as unknown as { _socket: { pause: () => void, resume: () => void } })._socket
  tcp(slow).pause()
  tcp(cut).pause()
  const big = 'x'.repeat(15_000)
  // 20 in flight at a time: 600 at once would wait on 600 synced JetStream writes, and on a busy CI disk the
  // last of them outlive the publish timeout (the funnel then rightly answers FUNNEL_UNAVAILABLE).
  const sent: Array<Record<string, unknown>> = []
  for (let i = 0; i < 600; i += 20) {
    sent.push(...await Promise.all(Array.from({ length: 20 }, async (_, j) => await writer.request('message', { room: 'firehose', text: `${i + j} ${big}` }))))
  }
  tcp(slow).resume()
  await slow.until(() => slow.closed !== null, 20_000)
  t.equal(slow.closed?.code, 4008, 'closed as a slow consumer')
  t.match(slow.closed?.reason, /afterSeq/, 'the reason says how to come back')
  // The cut came in the middle of the flood: a second after its end, the 300 ms are surely over.
  await new Promise((resolve) => setTimeout(resolve, 1_000))
  tcp(cut).resume()
  await cut.until(() => cut.closed !== null, 20_000)
  t.equal(cut.closed?.code, 1006, 'a socket that did not read its close frame within WS_CLOSE_GRACE_MS was cut')
  const before = slow.frames.filter((f) => f.event === 'new_message').map((f) => f.data.seq as number)
  t.ok(before.length < 600, `it got only part before the cut (${before.length})`)

  const back = await WsClient.connect(url, token('slow'))
  t.teardown(() => back.close())
  await back.request('join_room', { room: 'firehose', afterSeq: Math.max(seen, ...before) })
  await back.until((fs) => fs.filter((f) => f.event === 'new_message').length + before.length >= 600, 20_000)
  const all = [...before, ...back.frames.filter((f) => f.event === 'new_message').map((f) => f.data.seq as number)]
  t.same(all, sent.map((a) => a.seq as number).sort((a, b) => a - b), 'every message exactly once, in order, across the cut')
  t.equal(writer.closed, null, 'the writer was never bothered')
})

t.test('a half-open connection (no pong) is closed by the heartbeat', async (t) => {
  const { url } = await build(t, { ...env, WS_HEARTBEAT_MS: '300' })
  const socket = new WebSocket(`${url.replace('http', 'ws')}/ws?token=${token('ghost')}`, { autoPong: false })
  const code = await new Promise<number>((resolve) => socket.on('close', (c) => resolve(c)))
  t.ok(code === 1006 || code === 1005, `the funnel dropped it (${code})`)
  const live = await WsClient.connect(url, token('alive'))
  await new Promise((resolve) => setTimeout(resolve, 1_000))
  t.equal(live.closed, null, 'a client that answers pings stays')
  await live.close()
})

t.test('permessage-deflate is off even when a client offers it', async (t) => {
  const socket = new WebSocket(`${url.replace('http', 'ws')}/ws?token=${token('alice')}`, { perMessageDeflate: true })
  const extensions = await new Promise<string | undefined>((resolve, reject) => {
    socket.on('upgrade', (res) => resolve(res.headers['sec-websocket-extensions']))
    socket.on('error', reject)
  })
  t.equal(extensions, undefined, 'no extension accepted')
  socket.terminate()
})

// Behind a reverse proxy every user arrives from the proxy's address: with TRUST_PROXY naming it, each is
// counted by the address the proxy forwards, and nobody else can claim an address by sending the header.
t.test('behind TRUST_PROXY, rate limits and socket caps count the forwarded address, never a claimed one', async (t) => {
  const proxy = '127.0.0.31'
  const { url: behind } = await build(t, { ...env, TRUST_PROXY: proxy, RATE_LIMIT_ANON_PER_MINUTE: '5', WS_MAX_SOCKETS_PER_ADDRESS: '2' })
  const statuses = async (from: string, forwarded: string, n: number): Promise<number[]> =>
    (await Promise.all(Array.from({ length: n }, async () => (await send(behind, { path: '/v1/models', from, headers: { 'x-forwarded-for': forwarded } })).status))).sort()
  t.same(await statuses(proxy, '203.0.113.1', 7), [401, 401, 401, 401, 401, 429, 429], 'one client behind the proxy: its own 5 a minute, then 429')
  t.same(await statuses(proxy, '203.0.113.2', 5), [401, 401, 401, 401, 401], 'another client behind the same proxy is not limited by the first')
  const spoofed = await Promise.all(['198.51.100.1', '198.51.100.2', '198.51.100.3', '198.51.100.4', '198.51.100.5', '198.51.100.6'].map(async (claimed) =>
    (await send(behind, { path: '/v1/models', from: '127.0.0.32', headers: { 'x-forwarded-for': claimed } })).status))
  t.equal(spoofed.filter((s) => s === 429).length, 1, 'a client that is not the proxy is counted by its own address, whatever it claims')

  const open = async (forwarded: string, user: string): Promise<number> => await new Promise((resolve, reject) => {
    const socket = new WebSocket(`${behind.replace('http', 'ws')}/ws?token=${token(user)}`, { localAddress: proxy, headers: { 'x-forwarded-for': forwarded } })
    socket.on('open', () => { t.teardown(() => socket.terminate()); resolve(101) })
    socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
    socket.on('error', reject)
  })
  t.same([await open('203.0.113.9', 'u1'), await open('203.0.113.9', 'u2'), await open('203.0.113.9', 'u3')], [101, 101, 429], 'WS_MAX_SOCKETS_PER_ADDRESS counts the forwarded address')
  t.equal(await open('203.0.113.10', 'u4'), 101, 'and another forwarded address has its own')
})

function lastSeq (c: WsClient): number {
  return (c.of('room_joined').pop()?.lastSeq as number | undefined) ?? 0
}
