import { test, type Test } from 'tap'
import type { Metadata } from 'chromadb'
import { THREADS_STREAM, subjects } from '@skein/bus'
import { loadConfig } from '@skein/kit'
import { auth, backends, build, embedded, embeddingsStub, threadLog, until } from '../helper.js'
import { RebuildConfig } from '../../src/config.js'
import { Embedder } from '../../src/embeddings/embedder.js'
import { rebuildMemory, type RebuildProgress, type RebuildReport } from '../../src/memory/rebuild.js'
import { ThreadDirectory } from '../../src/memory/thread-directory.js'
import { connectChroma } from '../../src/plugins/chroma-client.js'

const COLLECTION = 'rebuild-test'
/** Each model's vectors have their own length: a document carried over with its old vector would not fit the new collection. */
const DIMENSIONS: Record<string, number> = { 'stub-embed-a': 64, 'stub-embed-b': 48 }

/** An embedding backend for two models; it refuses (400) any input containing `state.refuse`. */
async function embeddingsBackend (t: Test): Promise<{ url: string, state: { refuse: string } }> {
  const state = { refuse: '' }
  const url = await embeddingsStub(t, ({ model, input }) => {
    const dimensions = DIMENSIONS[model]
    if (!dimensions) return { status: 404, json: { error: { message: `no model ${model}`, type: 'invalid_request_error' } } }
    if (state.refuse && input.some((x) => x.includes(state.refuse))) return { status: 400, json: { error: { message: 'This input cannot be embedded (test refusal)', type: 'invalid_request_error', param: 'input' } } }
    return embedded(model, input, dimensions)
  })
  return { url, state }
}

const MESSAGES: Record<string, string> = {
  'm-1': 'Otters hold hands while they sleep on the river',
  'm-2': 'The ferry to the island leaves at seven every morning',
  'm-3': 'Sourdough needs a starter fed with flour and water',
  'm-4': 'The observatory dome opens when the sky is clear',
  'm-5': 'Glaciers carve valleys over thousands of years',
  'm-6': 'The orchestra tunes to the oboe before a concert'
}

test('a rebuild keeps the memory the stream no longer has', async (t) => {
  const { nats, chroma } = await backends(t)
  const backend = await embeddingsBackend(t)
  const { nc, js, jsm } = await threadLog(t, nats.url)
  const env = {
    NATS_URL: nats.url, CHROMA_URL: chroma.url, OPENAI_BASE_URL: backend.url, OPENAI_API_KEY: 'stub', MODEL_BACKEND: 'openai-compatible',
    EMBEDDING_MODEL: 'stub-embed-a', MEMORY_COLLECTION: COLLECTION, HEALTH_TIMEOUT_MS: '1000'
  }
  const app = await build(t, env)
  const client = connectChroma(chroma.url, 10_000)

  const now = new Date().toISOString()
  const seqs = new Map<string, number>()
  const post = async (id: string, text: string, role = 'user'): Promise<void> => {
    const ack = await js.publish(subjects.threadEvent('main', 'message'), JSON.stringify({ type: 'message', thread: 'main', ts: now, data: { id, thread: 'main', role, author: 'alice', text, ts: now } }), { msgID: `message:${id}` })
    seqs.set(id, ack.seq)
  }
  const rebuild = async (model: string): Promise<{ report: RebuildReport, progress: RebuildProgress[] }> => {
    const progress: RebuildProgress[] = []
    const embedder = new Embedder(loadConfig(RebuildConfig, { ...env, EMBEDDING_MODEL: model }))
    // Small batches and pages: the previous collection is read over several requests, embedded over several calls.
    const report = await rebuildMemory({ nc, chroma: client, embedder, directory: new ThreadDirectory(nc, { rpcTimeoutMs: 1_000 }), collection: COLLECTION, batch: 2, page: 2 }, (p) => progress.push(p))
    return { report, progress }
  }
  /** What the memory collection holds: its id, embedding model, and each document's text and metadata. */
  const contents = async (): Promise<{ id: string, model: unknown, docs: Record<string, { text: string | null, metadata: Metadata | null }> }> => {
    const c = await client.getCollection({ name: COLLECTION, embeddingFunction: null as never })
    const all = await c.get({ include: ['documents', 'metadatas'] as never })
    return { id: c.id, model: c.metadata?.embedding_model, docs: Object.fromEntries(all.ids.map((id, i) => [id, { text: all.documents[i] ?? null, metadata: all.metadatas[i] ?? null }])) }
  }
  const searchIds = async (t: Test, server: typeof app, q: string): Promise<string[]> => {
    const res = await server.inject({ url: `/api/memory/search?${new URLSearchParams({ q, k: '3' }).toString()}`, headers: auth('alice') })
    t.equal(res.statusCode, 200, `search "${q}"`)
    return (res.json().results as Array<{ id: string }>).map((h) => h.id)
  }

  for (const id of ['m-1', 'm-2', 'm-3', 'm-4']) await post(id, MESSAGES[id]!)
  await post('n-1', 'alice joined', 'system')
  for (const id of ['m-5', 'm-6']) await post(id, MESSAGES[id]!)
  await until('every message in memory', async () => (await app.memory.index.count()) === 6, 15_000)

  await t.test('a stream that still has every message: the same documents, carried: 0', async (t) => {
    const before = await contents()
    const { report, progress } = await rebuild('stub-embed-a')
    t.match(report, { count: 6, documents: 6, previousCount: 6, carried: 0, messages: 7, skipped: { notMemory: 1, noRecord: 0, refused: 0 } })
    t.ok(progress.every((p) => p.carried === 0), 'nothing carried over, all along')
    const after = await contents()
    t.not(after.id, before.id, 'a fresh collection')
    t.same(after.docs, before.docs, 'the same documents, texts and metadata')
  })

  // The stream keeps events THREAD_EVENTS_MAX_AGE_S only: the oldest messages age out, and memory is their only copy.
  await jsm.streams.purge(THREADS_STREAM, { seq: seqs.get('m-4')! })
  t.equal((await jsm.streams.info(THREADS_STREAM)).state.first_seq, seqs.get('m-4'), 'm-1 to m-3 are gone from the stream')

  await t.test('a document only memory holds that cannot be carried over: the rebuild fails and the previous collection stays', async (t) => {
    const before = await contents()
    backend.state.refuse = 'Otters' // m-1's text, refused by the new model
    await t.rejects(rebuild('stub-embed-b'), /cannot be carried over completely .*m-1.*left in place/)
    backend.state.refuse = ''
    const after = await contents()
    t.equal(after.id, before.id, 'the same collection')
    t.same(after.docs, before.docs, 'holding all it held')
    t.ok((await searchIds(t, app, 'otters hold hands')).includes('m-1'), 'and searched as before')
  })

  await t.test('the documents whose messages the stream no longer has are carried over, embedded with the new model', async (t) => {
    const before = await contents()
    const { report, progress } = await rebuild('stub-embed-b')
    t.match(report, { embeddingModel: 'stub-embed-b', count: 6, documents: 6, previousCount: 6, carried: 3, messages: 4, skipped: { notMemory: 1, noRecord: 0, refused: 0 } })
    t.same(progress.filter((p) => p.phase === 'carrying over').map((p) => p.carried), [2, 3], 'carried over in batches, said as it goes')
    t.match(progress.at(-1), { phase: 'catching up', indexed: 6, carried: 3 })
    const after = await contents()
    t.not(after.id, before.id, 'a fresh collection')
    t.equal(after.model, 'stub-embed-b')
    t.same(Object.keys(after.docs).sort(), Object.keys(MESSAGES), 'every document it held: the stream\'s and the ones only memory had')
    t.same(after.docs, before.docs, 'with their texts and metadata')
    const names = (await client.listCollections()).map((c) => c.name)
    t.same(names.filter((n) => n.startsWith(COLLECTION)), [COLLECTION], 'no temporary or retired collection left behind')

    const onB = await build(t, { ...env, EMBEDDING_MODEL: 'stub-embed-b' })
    t.same((await searchIds(t, onB, 'otters hold hands while they sleep')).slice(0, 1), ['m-1'], 'a carried document is found with the new model')
    t.same((await searchIds(t, onB, 'glaciers carve valleys')).slice(0, 1), ['m-5'], 'and one from the stream')
  })
})
