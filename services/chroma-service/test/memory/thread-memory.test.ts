import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { test } from 'tap'
import { DeliverPolicy, jetstream } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { ChromaClient } from 'chromadb'
import { THREADS_BUCKET, THREADS_STREAM, subjects } from '@skein/bus'
import type { ThreadEventPayload, ThreadRecord } from '@skein/schemas'
import { auth, backends, build, openaiService, serviceEnv, simulator, until } from '../helper.js'

const REBUILD = fileURLToPath(new URL('../../dist/rebuild.js', import.meta.url))
const COLLECTION = 'memory-test'

interface Hit { id: string, text: string, score: number, metadata: Record<string, unknown> }

test('thread memory, fed from NATS by a real openai-service', async (t) => {
  const { nats, chroma } = await backends(t)
  const sim = await simulator(t)
  const openai = await openaiService(t, nats.url, sim)
  const env = { ...serviceEnv(nats.url, chroma.url, sim), MEMORY_COLLECTION: COLLECTION, HEALTH_TIMEOUT_MS: '1000' }
  const app = await build(t, env)
  const nc = await connect({ servers: nats.url })
  t.teardown(() => nc.close())
  const js = jetstream(nc)
  const chromaClient = (): ChromaClient => new ChromaClient({ host: '127.0.0.1', port: chroma.port })

  const search = async (user: string, params: Record<string, string>): Promise<{ statusCode: number, json: () => any }> =>
    await app.inject({ url: `/api/memory/search?${new URLSearchParams(params).toString()}`, headers: auth(user) })
  const ids = (hits: Hit[]): string[] => hits.map((h) => h.id)
  const found = async (user: string, params: Record<string, string>, id: string): Promise<Hit[]> =>
    await until(`${id} in ${user}'s memory search`, async () => {
      const res = await search(user, params)
      return res.statusCode === 200 && ids(res.json().results).includes(id) ? res.json().results as Hit[] : null
    })
  const ask = async (request: Record<string, unknown>): Promise<{ results: Hit[], error?: string }> =>
    (await nc.request(subjects.memorySearch, JSON.stringify(request), { timeout: 5_000 })).json()

  /** What memory should hold: the distinct user, assistant and report messages in the stream. */
  const expectedDocuments = async (): Promise<Set<string>> => {
    const consumer = await js.consumers.get(THREADS_STREAM, { filter_subjects: 'skein.thread.*.message', deliver_policy: DeliverPolicy.All })
    const out = new Set<string>()
    let pending = (await consumer.info()).num_pending
    while (pending > 0) {
      for await (const m of await consumer.fetch({ max_messages: 200, expires: 2_000 })) {
        pending = m.info.pending
        const d = m.json<ThreadEventPayload>().data as { id: string, role: string, text: string }
        if (['user', 'assistant', 'report'].includes(d.role) && d.text.trim()) out.add(d.id)
      }
    }
    await consumer.delete()
    return out
  }

  let lighthouse: ThreadRecord

  await t.test('after a task completes, memory search finds its result by words from it, scoped to its thread', async (t) => {
    lighthouse = await openai.task('Explain how lighthouses guide ships at night')
    t.equal(lighthouse.status, 'completed')
    const hits = await found('alice', { q: 'lighthouses guide ships', scope: 'thread', id: lighthouse.id }, `answer-${lighthouse.id}`)
    const answer = hits.find((h) => h.id === `answer-${lighthouse.id}`)!
    t.equal(answer.text, lighthouse.result)
    t.match(answer.metadata, { thread: lighthouse.id, room: 'main', parent: 'main', author: 'assistant', role: 'assistant', private: false })
    t.ok(hits.every((h) => h.metadata.thread === lighthouse.id), 'only that thread')

    const everywhere = await found('bob', { q: 'lighthouses guide ships at night', k: '10' }, `report-${lighthouse.id}`)
    t.match(everywhere.find((h) => h.id === `report-${lighthouse.id}`)?.metadata, { thread: 'main', room: 'main', from: lighthouse.id, role: 'report' }, 'the report in the main thread, for every user: the task was public')
    const elsewhere = await search('alice', { q: 'lighthouses guide ships', scope: 'thread', id: 't-elsewhere' })
    t.same(elsewhere.json().results, [], 'nothing from other threads')

    const tool = await ask({ query: 'lighthouses guide ships', scope: 'main', k: 5, thread: 't-asking' })
    t.ok(ids(tool.results).includes(`answer-${lighthouse.id}`), 'the search_memory tool\'s NATS request/reply finds it too')
    t.match((await ask({ query: '' })).error, /query must be a non-empty string/)
    t.equal((await search('alice', {})).statusCode, 400)
    t.equal((await app.inject({ url: '/api/memory/search?q=x' })).statusCode, 401)
  })

  await t.test('Chroma stops, a task finishes, Chroma starts again: the result is indexed exactly once', async (t) => {
    await chroma.kill()
    const beavers = await openai.task('Describe how beavers build dams across rivers')
    t.equal(beavers.status, 'completed', 'tasks do not need Chroma')
    const waiting = await until('the indexer to report it is waiting', async () => {
      const res = await app.inject({ url: '/api/health' })
      return res.json().dependencies['memory-indexer'].status === 'down' ? res : null
    })
    t.equal(waiting.statusCode, 503)
    t.match(waiting.json().dependencies['memory-indexer'].message, /message\(s\) waiting since/)
    const down = await search('alice', { q: 'beavers' })
    t.equal(down.statusCode, 503)
    t.equal(down.json().error.code, 'MEMORY_UNAVAILABLE')
    await new Promise((resolve) => setTimeout(resolve, 1_500)) // a few failed attempts, held, not lost

    await chroma.restart()
    const hits = await found('alice', { q: 'beavers build dams across rivers', scope: 'thread', id: beavers.id, k: '20' }, `answer-${beavers.id}`)
    t.equal(new Set(ids(hits)).size, hits.length, 'no document twice')
    await until('health to recover', async () => (await app.inject({ url: '/api/health' })).statusCode === 200)
    const expected = await expectedDocuments()
    const count = await until('every message to be indexed', async () => {
      const n = await app.memory.index.count()
      return n >= expected.size ? n : null
    })
    t.equal(count, expected.size, 'memory holds each message of the stream once: nothing lost, nothing doubled')
  })

  await t.test('a private room\'s memory is found by its owner and members only', async (t) => {
    // The openai-service keeps thread records in the skein-threads bucket; the test writes a private room's as it does.
    const now = new Date().toISOString()
    const room: ThreadRecord = {
      id: 'c-hidden', kind: 'conversation', parent: 'main', root: 'c-hidden', depth: 1, task: '', assistant: { instructions: 'Be brief.', model: 'skein-sim-1' },
      status: 'open', children: [], dependsOn: [], result: null, error: null, usage: { promptTokens: 0, completionTokens: 0 },
      owner: 'alice', private: true, members: ['bob'], createdAt: now, updatedAt: now, closedAt: null
    }
    await js.publish(`$KV.${THREADS_BUCKET}.${room.id}`, JSON.stringify(room))
    const post = async (thread: string, id: string, text: string): Promise<void> => {
      await js.publish(subjects.threadEvent(thread, 'message'), JSON.stringify({ type: 'message', thread, ts: now, data: { id, thread, role: 'user', author: 'alice', text, ts: now } }), { msgID: `message:${id}` })
    }
    await post('t-no-record', 'm-orphan', 'The walrus statue was moved to the harbour')
    await post('c-hidden', 'm-hidden', 'The vault code is kept under the walrus statue')
    await post('main', 'm-public', 'The walrus statue stands in the town square')

    const own = await found('alice', { q: 'walrus statue', k: '10' }, 'm-hidden')
    t.match(own.find((h) => h.id === 'm-hidden')?.metadata, { thread: 'c-hidden', room: 'c-hidden', private: true, 'reader:alice': true, 'reader:bob': true })
    const member = await found('bob', { q: 'walrus statue', scope: 'room', id: 'c-hidden' }, 'm-hidden')
    t.same(ids(member), ['m-hidden'], 'a member finds it, in its room')
    const outsider = await found('carol', { q: 'walrus statue', k: '10' }, 'm-public')
    t.notOk(ids(outsider).includes('m-hidden'), 'someone else does not')
    t.same((await search('carol', { q: 'walrus statue', scope: 'room', id: 'c-hidden' })).json().results, [])
    t.notOk(ids(outsider).includes('m-orphan') || ids(own).includes('m-orphan'), 'a message of a thread without a record is not indexed, and blocks nothing after it')

    t.notOk(ids((await ask({ query: 'walrus statue', k: 10 })).results).includes('m-hidden'), 'NATS search without a user: public memory only')
    t.ok(ids((await ask({ query: 'walrus statue', k: 10, user: 'bob' })).results).includes('m-hidden'), 'with a member named')
    t.ok(ids((await ask({ query: 'walrus statue', k: 10, thread: 'c-hidden' })).results).includes('m-hidden'), 'or asked from inside the room')
  })

  await t.test('the rebuild command recreates the memory collection from JetStream, with the same count', async (t) => {
    t.ok(existsSync(REBUILD), 'the command is built (pnpm build; npm test builds first)')
    const before = await app.memory.index.count()
    const oldId = (await chromaClient().getCollection({ name: COLLECTION, embeddingFunction: null as never })).id
    const { stdout } = await promisify(execFile)(process.execPath, [REBUILD], { env: { ...process.env, ...env, LOG_LEVEL: 'warn' }, timeout: 60_000 })
    t.match(stdout, /indexing: \d+\/\d+ messages read/, 'it shows progress')
    t.match(stdout, new RegExp(`rebuilt "${COLLECTION}" with skein-sim-embed: ${before} documents \\(before: ${before}\\)`), 'and says what it did')
    const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as { count: number, previousCount: number, skipped: { noRecord: number } }
    t.equal(report.count, before, 'the same count')
    t.equal(report.skipped.noRecord, 1, 'the message without a thread record is left out again')
    const fresh = await chromaClient().getCollection({ name: COLLECTION, embeddingFunction: null as never })
    t.not(fresh.id, oldId, 'a fresh collection')
    t.equal(await fresh.count(), before)
    const names = (await chromaClient().listCollections()).map((c) => c.name)
    t.same(names.filter((n) => n.startsWith(COLLECTION)), [COLLECTION], 'no temporary or retired collection left behind')

    // The running service follows the swap: it searches and indexes into the new collection.
    await found('alice', { q: 'lighthouses guide ships', scope: 'thread', id: lighthouse.id }, `answer-${lighthouse.id}`)
    t.notOk(ids((await search('carol', { q: 'walrus statue', k: '10' })).json().results).includes('m-hidden'), 'privacy survives the rebuild')
    const puffins = await openai.task('Summarise where puffins nest')
    await found('alice', { q: 'puffins nest', scope: 'thread', id: puffins.id }, `answer-${puffins.id}`)
  })
})
