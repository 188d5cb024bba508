import type { AddressInfo } from 'node:net'
import t from 'tap'
import { WebSocket, WebSocketServer } from 'ws'
import { sendWire, wireFrame } from '../src/realtime/wire.js'

// Frames framed once for a whole room must read, at a real ws client, exactly as ws's own send would: every
// length encoding (7-bit, 16-bit, 64-bit), in order with frames ws frames itself.
t.test('a frame framed once reads as ws\'s own, at every length, in order with ws\'s frames', async (t) => {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false })
  t.teardown(() => server.close())
  await new Promise((resolve) => server.once('listening', resolve))
  const texts = [0, 1, 125, 126, 127, 65_535, 65_536, 200_000].map((n) => 'é'.repeat(Math.floor(n / 2)) + 'x'.repeat(n % 2))
  server.once('connection', (socket) => {
    for (const [i, text] of texts.entries()) {
      sendWire(socket, wireFrame(text))
      socket.send(`ws:${i}`)
    }
  })
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`)
  t.teardown(() => client.terminate())
  const got: string[] = []
  await new Promise<void>((resolve, reject) => {
    client.on('message', (data, isBinary) => {
      if (isBinary) reject(new Error('a binary frame'))
      got.push(data.toString())
      if (got.length === texts.length * 2) resolve()
    })
    client.on('error', reject)
  })
  t.same(got, texts.flatMap((text, i) => [text, `ws:${i}`]), 'every frame whole, text, in the order sent')
  for (const text of texts) t.equal(wireFrame(text).payload.toString(), text, `its payload is the text (${Buffer.byteLength(text)} bytes)`)
})

t.test('a socket that is closing gets nothing written behind its close frame', async (t) => {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false })
  t.teardown(() => server.close())
  await new Promise((resolve) => server.once('listening', resolve))
  server.once('connection', (socket) => {
    sendWire(socket, wireFrame('before'))
    socket.close(4000, 'bye')
    sendWire(socket, wireFrame('after'))
  })
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`)
  const got: string[] = []
  client.on('message', (data) => got.push(data.toString()))
  const code = await new Promise((resolve) => client.on('close', resolve))
  t.equal(code, 4000, 'the close arrives whole')
  t.same(got, ['before'])
})

t.test('frames sent to one socket in one tick leave in one write, and in order', async (t) => {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false })
  t.teardown(() => server.close())
  await new Promise((resolve) => server.once('listening', resolve))
  const writes: number[] = []
  server.once('connection', (socket) => {
    // What reaches the kernel: one _writev (or _write) call per system call.
    const raw = (socket as unknown as { _socket: { _writev: (chunks: unknown[], cb: () => void) => void, _write: (chunk: unknown, enc: string, cb: () => void) => void } })._socket
    const writev = raw._writev.bind(raw)
    const write = raw._write.bind(raw)
    raw._writev = (chunks, cb) => { writes.push(chunks.length); writev(chunks, cb) }
    raw._write = (chunk, enc, cb) => { writes.push(1); write(chunk, enc, cb) }
    for (let i = 0; i < 5; i++) sendWire(socket, wireFrame(`tick one ${i}`))
    setImmediate(() => { for (let i = 0; i < 3; i++) sendWire(socket, wireFrame(`tick two ${i}`)) })
  })
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`)
  t.teardown(() => client.terminate())
  const got: string[] = []
  await new Promise<void>((resolve) => client.on('message', (data) => { got.push(data.toString()); if (got.length === 8) resolve() }))
  t.same(got, [0, 1, 2, 3, 4].map((i) => `tick one ${i}`).concat([0, 1, 2].map((i) => `tick two ${i}`)), 'every frame, in order')
  t.same(writes, [5, 3], 'one write per tick, each with all the frames of its tick')
})
