import { mkdtempSync } from 'node:fs'
import { createServer, type AddressInfo, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'tap'
import { NatsServer } from '@skein/stack'
import { auth, build } from '../helper.js'

/** The answer, or null when it has not come within `ms`. */
async function within<V> (ms: number, work: Promise<V>): Promise<V | null> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<null>((resolve) => { timer = setTimeout(() => resolve(null), ms) })
  return await Promise.race([work, late]).finally(() => clearTimeout(timer))
}

test('a Chroma that accepts connections but never answers: 503 within CHROMA_TIMEOUT_MS, and health says down', async (t) => {
  // A TCP listener that takes every connection and never writes a byte: a hung Chroma.
  const sockets = new Set<Socket>()
  const silent = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); silent.close(() => resolve()) }))
  const nats = await NatsServer.start({ dataDir: mkdtempSync(join(tmpdir(), 'skein-chroma-')) })
  t.teardown(() => nats.stop())
  const app = await build(t, {
    NATS_URL: nats.url,
    CHROMA_URL: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
    CHROMA_TIMEOUT_MS: '1000',
    HEALTH_TIMEOUT_MS: '1000'
  })
  const headers = { ...auth('alice'), 'content-type': 'application/json' }

  const started = Date.now()
  const query = await within(5_000, app.inject({ method: 'POST', url: '/api/collections/field-notes/query', headers, payload: JSON.stringify({ text: 'puffin' }) }))
  t.ok(query, 'a query is answered within a few seconds')
  t.equal(query?.statusCode, 503)
  t.equal(query?.json().error.code, 'MEMORY_UNAVAILABLE')
  t.match(query?.json().error.message, /did not answer within CHROMA_TIMEOUT_MS \(1000 ms\)/, 'the message names the setting')
  t.ok(Date.now() - started >= 900, 'after the deadline, not before')

  const list = await within(5_000, app.inject({ url: '/api/collections', headers }))
  t.equal(list?.statusCode, 503, 'listing collections too')
  const memory = await within(5_000, app.inject({ url: '/api/memory/search?q=puffin', headers }))
  t.equal(memory?.statusCode, 503, 'and memory search')
  t.equal(memory?.json().error.code, 'MEMORY_UNAVAILABLE')

  const healthStarted = Date.now()
  const health = await within(3_000, app.inject({ url: '/api/health' }))
  t.equal(health?.statusCode, 503)
  t.equal(health?.json().dependencies.chromadb.status, 'down', 'health reports Chroma down')
  t.ok(Date.now() - healthStarted < 2_000, 'within its own timeout')
})
