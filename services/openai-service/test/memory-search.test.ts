import { test, type Test } from 'tap'
import { connect } from '@nats-io/transport-node'
import { subjects } from '@skein/bus'
import type { MemorySearchRequest, ThreadRecord } from '@skein/schemas'
import { auth, build, nats, simulator, until } from './helper.js'

const TERMINAL = ['completed', 'failed', 'cancelled']

/** What memory holds: one public message, and one from alice's private room "attic" (only alice reads it). */
const MEMORY = [
  { id: 'm-public', text: 'Lighthouses guide ships past the reefs.', private: false, readers: [] as string[], room: 'main' },
  { id: 'm-attic', text: 'The spare key is under the blue flowerpot.', private: true, readers: ['alice'], room: 'attic' }
]

test('search_memory searches as the place its answer is shown in may see, not as the thread\'s owner', async (t) => {
  const n = await nats(t)
  // The memory side of `skein.memory.search`, on its own connection: it records each request and answers
  // with what the request may see, by the chroma-service's rule (public, the user's private rooms, the
  // asking thread's own).
  const nc = await connect({ servers: n.url })
  t.teardown(() => nc.drain())
  const asked: MemorySearchRequest[] = []
  nc.subscribe(subjects.memorySearch, {
    callback: (err, m) => {
      if (err) return
      const q = m.json<MemorySearchRequest>()
      asked.push(q)
      const seen = MEMORY.filter((d) => !d.private || (q.user !== undefined && d.readers.includes(q.user)))
      m.respond(JSON.stringify({ results: seen.map((d, i) => ({ id: d.id, text: d.text, score: 0.9 - i / 10, metadata: { room: d.room, private: d.private } })) }))
    }
  })
  await nc.flush()
  const base = await simulator(t, { SIM_TOKENS_PER_SECOND: '400' })
  const app = await build(t, { NATS_URL: n.url, OPENAI_BASE_URL: base, OPENAI_API_KEY: 'sim', MODEL_BACKEND: 'simulator', THREADS_WORKERS: '4' })
  await app.threads.engine.createConversation({ owner: 'alice', id: 'attic', private: true })
  await app.threads.engine.createConversation({ owner: 'alice', id: 'harbour', private: true, members: ['bob'] })

  /** Runs a task of alice's that searches memory; the searches its threads made and what their threads were told. */
  const run = async (t: Test, parent?: string, text = 'Search memory for the spare key'): Promise<{ task: ThreadRecord, steps: ThreadRecord[], requests: MemorySearchRequest[], told: string }> => {
    const res = await app.inject({ method: 'POST', url: '/tasks', headers: auth('alice'), payload: { task: text, ...(parent ? { parent } : {}) } })
    t.equal(res.statusCode, 201, 'the task is started')
    const created = res.json() as ThreadRecord
    const task = await until('the task to finish', async () => {
      const r = await app.threads.store.get(created.id)
      return r && TERMINAL.includes(r.status) ? r : null
    })
    const ids = [task.id, ...task.children]
    const said = (await Promise.all(ids.map((id) => app.threads.log.messages(id)))).flat()
    const steps = (await Promise.all(task.children.map((id) => app.threads.store.get(id)))).filter((r): r is ThreadRecord => r !== null)
    return { task, steps, requests: asked.filter((q) => q.thread !== undefined && ids.includes(q.thread)), told: said.filter((m) => m.text.startsWith('Searched memory')).map((m) => m.text).join('\n') }
  }

  await t.test('a public task of alice\'s does not search as alice and is not told her private room', async (t) => {
    const { task, requests, told } = await run(t)
    t.equal(task.private, undefined, 'the task is public')
    t.ok(requests.length >= 1, 'the assistant searched memory')
    t.ok(requests.every((q) => q.user === undefined), 'no search names a user')
    t.match(told, /Lighthouses/, 'public memory is found')
    t.notMatch(told, /flowerpot/, 'what alice said in her private room stays out of the public thread')
  })

  await t.test('a task in alice\'s own private room still finds that room\'s memory', async (t) => {
    const { task, requests, told } = await run(t, 'attic')
    t.equal(task.private, true)
    t.ok(requests.length >= 1, 'the assistant searched memory')
    t.ok(requests.every((q) => q.user === 'alice'), 'its only reader is alice: it searches as her')
    t.match(told, /flowerpot/, 'the room\'s memory is found')
  })

  await t.test('the steps of a task in alice\'s own room are as private as the room, and search as her too', async (t) => {
    const { steps, requests, told } = await run(t, 'attic', '1. Search memory for the spare key\n2. Search memory for the lighthouse')
    t.equal(steps.length, 2, 'two steps')
    t.same(steps.map((s) => s.private), [true, true], 'each step is private')
    t.ok(requests.length >= 2, 'the steps searched memory')
    t.ok(requests.every((q) => q.user === 'alice'), 'as alice, the room\'s only reader')
    t.match(told, /flowerpot/)
  })

  await t.test('a task in a room alice shares with bob does not search as alice', async (t) => {
    const { task, requests, told } = await run(t, 'harbour')
    t.equal(task.private, true)
    t.ok(requests.length >= 1, 'the assistant searched memory')
    t.ok(requests.every((q) => q.user === undefined), 'bob reads it too: no search names a user')
    t.notMatch(told, /flowerpot/, 'bob is not shown alice\'s other private room')
  })
})
