import t from 'tap'
import { WebSocket } from 'ws'
import { build, nats, threadsEngine, token } from './helper.js'
import { WsClient } from '@skein/stack'

// A funnel with small limits, so that they are reached quickly: a 256 KiB send buffer per socket.
const n = await nats(t)
const engine = await threadsEngine(t, n.url)
const env = { NATS_URL: n.url, OPENAI_SERVICE_URL: engine.url, CHROMA_SERVICE_URL: 'http://127.0.0.1:9' }
const { url } = await build(t, { ...env, WS_MAX_BUFFERED_BYTES: '262144', WS_RATE_PER_S: '1000', WS_RATE_BURST: '1000' })

t.test('a client that stops reading is closed as a slow consumer (4008) and loses nothing when it resumes', async (t) => {
  const writer = await WsClient.connect(url, token('writer'))
  t.teardown(() => writer.close())
  await writer.request('create_room', { room: 'firehose' })
  await writer.request('join_room', { room: 'firehose' })
  const slow = await WsClient.connect(url, token('slow'))
  await slow.request('join_room', { room: 'firehose' })
  const seen = lastSeq(slow)
  // The slow client's process stops reading its socket: the kernel's buffers fill, then the funnel's.
  ;(slow.socket as unknown as { _socket: { pause: () => void, resume: () => void } })._socket.pause()
  const big = 'x'.repeat(15_000)
  const acks: Array<Promise<Record<string, unknown>>> = []
  for (let i = 0; i < 600; i++) acks.push(writer.request('message', { room: 'firehose', text: `${i} ${big}` }))
  const sent = await Promise.all(acks)
  ;(slow.socket as unknown as { _socket: { resume: () => void } })._socket.resume()
  await slow.until(() => slow.closed !== null, 20_000)
  t.equal(slow.closed?.code, 4008, 'closed as a slow consumer')
  t.match(slow.closed?.reason, /afterSeq/, 'the reason says how to come back')
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

function lastSeq (c: WsClient): number {
  return (c.of('room_joined').pop()?.lastSeq as number | undefined) ?? 0
}
