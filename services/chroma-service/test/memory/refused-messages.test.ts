import { test, type Test } from 'tap'
import { THREADS_STREAM, subjects } from '@skein/bus'
import { auth, backends, build, embedded, embeddingsStub, threadLog, until } from '../helper.js'
import { MEMORY_CONSUMER } from '../../src/memory/thread-memory.js'

const DIMENSIONS = 64

/**
 * An embedding backend speaking OpenAI's POST /v1/embeddings: it refuses (400) any input with "POISON" in it, as a
 * backend refuses a text it cannot take; fails (503) the first `flaky` calls with "FLAKY" in them; refuses
 * everything while `refuseAll` (a misconfigured model would).
 */
async function embeddingsBackend (t: Test): Promise<{ url: string, state: { flaky: number, refuseAll: boolean } }> {
  const state = { flaky: 0, refuseAll: false }
  const url = await embeddingsStub(t, ({ input }) => {
    if (state.refuseAll || input.some((x) => x.includes('POISON'))) return { status: 400, json: { error: { message: 'This input cannot be embedded (test refusal)', type: 'invalid_request_error', param: 'input' } } }
    if (input.some((x) => x.includes('FLAKY')) && state.flaky > 0) {
      state.flaky--
      return { status: 503, json: { error: { message: 'overloaded', type: 'server_error' } } }
    }
    return embedded('stub-embed', input, DIMENSIONS)
  })
  return { url, state }
}

test('a message the embedding backend refuses is set aside; the ones after it are indexed', async (t) => {
  const { nats, chroma } = await backends(t)
  const backend = await embeddingsBackend(t)
  const { js, jsm } = await threadLog(t, nats.url)
  const app = await build(t, {
    NATS_URL: nats.url, CHROMA_URL: chroma.url, OPENAI_BASE_URL: backend.url, OPENAI_API_KEY: 'stub', MODEL_BACKEND: 'openai-compatible',
    EMBEDDING_MODEL: 'stub-embed', MEMORY_COLLECTION: 'refusals-test', HEALTH_TIMEOUT_MS: '1000'
  })

  const now = new Date().toISOString()
  const post = async (id: string, text: string): Promise<void> => {
    await js.publish(subjects.threadEvent('main', 'message'), JSON.stringify({ type: 'message', thread: 'main', ts: now, data: { id, thread: 'main', role: 'user', author: 'alice', text, ts: now } }), { msgID: `message:${id}` })
  }
  const searchIds = async (q: string): Promise<string[]> => {
    const res = await app.inject({ url: `/api/memory/search?${new URLSearchParams({ q, k: '10' }).toString()}`, headers: auth('alice') })
    return res.statusCode === 200 ? (res.json().results as Array<{ id: string }>).map((h) => h.id) : []
  }
  const indexer = async (): Promise<{ status: string, message: string, details: { indexed: number, setAside: number, lastSetAside?: { message: string, reason: string } } }> =>
    (await app.inject({ url: '/api/health' })).json().dependencies['memory-indexer']

  await t.test('the refused message is acked and counted; the next one becomes searchable, once', async (t) => {
    await post('m-poison', 'POISON the lighthouse keeper logbook entry')
    await post('m-normal', 'The lighthouse keeper wrote the logbook entry at dawn')
    const ids = await until('m-normal in memory search', async () => {
      const found = await searchIds('lighthouse keeper logbook')
      return found.includes('m-normal') ? found : null
    }, 15_000)
    t.notOk(ids.includes('m-poison'), 'the refused message is not indexed')
    t.equal(await app.memory.index.count(), 1, 'nothing indexed twice, nothing refused indexed')
    // Searchable as soon as Chroma has it; the indexer counts it a moment later.
    const health = await until('the indexer to count m-normal', async () => { const h = await indexer(); return h.details.indexed === 1 ? h : null }, 5_000)
    t.equal(health.status, 'up', 'a refused message does not make the indexer down')
    t.match(health.message, /1 set aside, refused by the embedding backend \(the last: m-poison\)/)
    t.match(health.details, { indexed: 1, setAside: 1, lastSetAside: { message: 'm-poison', reason: /HTTP 400\): This input cannot be embedded/ } })
    const info = await until('the consumer to have nothing left', async () => {
      const i = await jsm.consumers.info(THREADS_STREAM, MEMORY_CONSUMER)
      return i.num_pending === 0 && i.num_ack_pending === 0 ? i : null
    }, 5_000)
    t.equal(info.num_redelivered, 0, 'the refused message was acked, not redelivered')
  })

  await t.test('a failing backend (503) is still waited for, not set aside: the message is indexed once it is back', async (t) => {
    backend.state.flaky = 4 // more than the embedder's own two retries: the indexer holds the message and tries again
    await post('m-flaky', 'FLAKY harbour pilots board ships at the breakwater')
    await until('m-flaky in memory search', async () => (await searchIds('harbour pilots board ships')).includes('m-flaky'), 15_000)
    t.equal(backend.state.flaky, 0, 'it failed, then succeeded')
    const health = await until('the indexer to count m-flaky', async () => { const h = await indexer(); return h.details.indexed === 2 ? h : null }, 5_000)
    t.match(health, { status: 'up', details: { indexed: 2, setAside: 1 } }, 'not set aside')
  })

  await t.test('a backend that refuses every text is misconfigured, not fed bad messages: nothing is set aside, the message waits', async (t) => {
    backend.state.refuseAll = true
    await post('m-waits', 'Puffins return to the cliffs in spring')
    const down = await until('the indexer to report it is waiting', async () => {
      const h = await indexer()
      return h.status === 'down' ? h : null
    }, 10_000)
    t.match(down.message, /refuses every text, even a plain probe/)
    t.equal(down.details.setAside, 1, 'nothing more set aside')
    backend.state.refuseAll = false
    await until('m-waits in memory search', async () => (await searchIds('puffins return to the cliffs')).includes('m-waits'), 15_000)
    t.equal(await app.memory.index.count(), 3)
  })

  await t.test('a document the backend refuses, upserted into a collection: 422 saying so, not a 503 to retry', async (t) => {
    const headers = { ...auth('alice'), 'content-type': 'application/json' }
    t.equal((await app.inject({ method: 'POST', url: '/api/collections', headers, payload: JSON.stringify({ name: 'notes' }) })).statusCode, 201)
    const res = await app.inject({ method: 'POST', url: '/api/collections/notes/documents', headers, payload: JSON.stringify({ documents: [{ text: 'POISON pill' }] }) })
    t.equal(res.statusCode, 422)
    t.equal(res.json().error.code, 'MEMORY_EMBEDDING_REFUSED')
    t.match(res.json().error.message, /HTTP 400\): This input cannot be embedded.*will not help/)
  })
})
