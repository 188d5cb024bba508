import { test } from 'tap'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { THREADS_STREAM, ensureStream, subjects } from '@skein/bus'
import { auth, backends, build, simulator } from './helper.js'

type T = Parameters<Parameters<typeof test>[1]>[0]

async function setup (t: T) {
  const { nats, chroma } = await backends(t)
  const base = await simulator(t)
  const nc = await connect({ servers: nats.url })
  t.teardown(() => nc.close())
  // The openai-service owns the thread stream; here the test declares it as that service does.
  await ensureStream(await jetstreamManager(nc), { name: THREADS_STREAM, subjects: [subjects.allThreadEvents] })
  const js = jetstream(nc)
  const post = async (thread: string, id: string, role: string, text: string): Promise<void> => {
    await js.publish(subjects.threadEvent(thread, 'message'), JSON.stringify({ type: 'message', thread, ts: new Date().toISOString(), data: { id, thread, role, author: role === 'user' ? 'alice' : 'assistant', text, ts: new Date().toISOString() } }))
  }
  const app = await build(t, { NATS_URL: nats.url, CHROMA_URL: chroma.url, OPENAI_BASE_URL: base, OPENAI_API_KEY: 'sim', MODEL_BACKEND: 'simulator', MEMORY_COLLECTION: 'memory-test' })
  return { app, nc, post, chroma }
}

async function until<V> (what: string, probe: () => Promise<V | undefined | null | false>, timeoutMs = 20_000): Promise<V> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await probe().catch(() => null)
    if (v) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

test('thread messages are indexed from NATS and found by words from them, in scope, once each', async (t) => {
  const { app, nc, post } = await setup(t)
  await post('t-a', 'm1', 'report', 'The lighthouse keeper logs the tides every morning')
  await post('t-a', 'm2', 'user', 'Quarterly invoices are due at the end of the month')
  await post('t-b', 'm3', 'assistant', 'Lighthouse lenses focus the lamp into a beam')
  await post('t-b', 'm4', 'system', 'not indexed: system notes are not memory')
  await post('t-a', 'm1', 'report', 'The lighthouse keeper logs the tides every morning') // a replay

  const found = await until('the indexer', async () => {
    const res = await app.inject({ url: '/api/memory/search?q=lighthouse%20keeper%20tides&k=5', headers: auth() })
    return res.statusCode === 200 && res.json().results.length >= 3 ? res.json().results : null
  })
  t.equal(found[0].id, 'm1', 'the best match first')
  t.same(found.map((r: { id: string }) => r.id).sort(), ['m1', 'm2', 'm3'], 'once each; system notes left out')
  t.equal(found[0].metadata.thread, 't-a')
  t.equal(found[0].metadata.role, 'report')

  const scoped = await app.inject({ url: '/api/memory/search?q=lighthouse&scope=thread&id=t-b', headers: auth() })
  t.same(scoped.json().results.map((r: { id: string }) => r.id), ['m3'], 'scoped to one thread')

  const reply = await nc.request(subjects.memorySearch, JSON.stringify({ query: 'lamp beam lenses', k: 1 }), { timeout: 5_000 })
  t.equal(reply.json<{ results: Array<{ id: string }> }>().results[0]?.id, 'm3', 'the search_memory tool\'s NATS request/reply')
  const bad = await nc.request(subjects.memorySearch, JSON.stringify({ query: '' }), { timeout: 5_000 })
  t.match(bad.json<{ error: string }>().error, /query must be a non-empty string/)

  const noQuery = await app.inject({ url: '/api/memory/search', headers: auth() })
  t.equal(noQuery.statusCode, 400)
  t.equal((await app.inject({ url: '/api/memory/search?q=x' })).statusCode, 401)
})

test('with Chroma down the indexer waits, and catches up exactly once when it returns', async (t) => {
  const { app, post, chroma } = await setup(t)
  await post('t-c', 'c1', 'report', 'Penguins huddle to keep warm in the antarctic winter')
  await until('the first message indexed', async () => (await app.inject({ url: '/api/memory/search?q=penguins', headers: auth() })).json().results?.length === 1)
  await chroma.stop()
  await post('t-c', 'c2', 'report', 'Emperor penguins breed during the long antarctic winter')
  const down = await app.inject({ url: '/api/memory/search?q=penguins', headers: auth() })
  t.equal(down.statusCode, 503, 'search says memory is unavailable while Chroma is down')
  t.equal(down.json().error.code, 'MEMORY_UNAVAILABLE')
  await new Promise((resolve) => setTimeout(resolve, 1_500))
  await chroma.restart()
  const results = await until('the catch-up', async () => {
    const res = await app.inject({ url: '/api/memory/search?q=penguins%20antarctic%20winter&k=10', headers: auth() })
    return res.statusCode === 200 && res.json().results.length >= 2 ? res.json().results : null
  })
  t.same(results.map((r: { id: string }) => r.id).sort(), ['c1', 'c2'], 'the message posted while Chroma was down is indexed, once')
})
