import { test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { jetstreamManager } from '@nats-io/jetstream'
import { THREADS_STREAM, subjects } from '@skein/bus'
import type { ThreadEvent, ThreadMessage, ThreadRecord } from '@skein/schemas'
import { auth, build, nats, simulator, until } from './helper.js'

type T = Parameters<Parameters<typeof test>[1]>[0]
const TERMINAL = ['completed', 'failed', 'cancelled']

async function engine (t: T, sim: Record<string, string> = {}, env: Record<string, string> = {}): Promise<{ app: FastifyInstance, natsUrl: string, base: string }> {
  const n = await nats(t)
  const base = await simulator(t, { SIM_TOKENS_PER_SECOND: '400', ...sim })
  const app = await build(t, { NATS_URL: n.url, OPENAI_BASE_URL: base, OPENAI_API_KEY: 'sim', MODEL_BACKEND: 'simulator', THREADS_WORKERS: '4', ...env })
  return { app, natsUrl: n.url, base }
}

const get = async <V>(app: FastifyInstance, url: string): Promise<V> => (await app.inject({ url, headers: auth() })).json() as V
const events = async (app: FastifyInstance, id: string): Promise<ThreadEvent[]> => await app.threads.log.read(id)

test('a task of three independent parts and one dependent part: four steps, three in parallel, reports, a final answer, all closed', async (t) => {
  const { app } = await engine(t)
  const created = await app.inject({ method: 'POST', url: '/tasks', headers: { ...auth(), 'x-request-id': 'trace-9' }, payload: { task: '1. Research cats\n2. Research dogs\n3. Research birds\n4. Compare the results of the three' } })
  t.equal(created.statusCode, 201)
  const task = created.json() as ThreadRecord
  const jsm = await jetstreamManager(app.nats)
  const raw = await jsm.streams.getMessage(THREADS_STREAM, { last_by_subj: subjects.threadEvent(task.id, 'created') })
  t.equal(raw?.header?.get('x-request-id'), 'trace-9', 'the request id travels in the NATS message headers')
  t.equal(task.parent, 'main')
  t.equal(task.status, 'planning')
  t.match(task.assistant.instructions, /Research cats/, 'the assistant\'s instructions are the template extended by the task')

  const done = await until('the task to complete', async () => {
    const r = await get<ThreadRecord>(app, `/threads/${task.id}`)
    return TERMINAL.includes(r.status) ? r : null
  })
  t.equal(done.status, 'completed')
  t.equal(done.children.length, 4)
  t.ok(done.result && done.result.length > 20, 'a final answer')

  const children = await Promise.all(done.children.map((c) => get<ThreadRecord>(app, `/threads/${c}`)))
  t.same(children.map((c) => c.status), ['completed', 'completed', 'completed', 'completed'])
  t.same(children[3]!.dependsOn, children.slice(0, 3).map((c) => c.id), 'the comparison depends on the three')
  t.same(children.slice(0, 3).map((c) => c.dependsOn), [[], [], []])

  const logs = await Promise.all(children.map((c) => events(app, c.id)))
  const seqOf = (log: ThreadEvent[], type: string, status?: string): number => log.find((e) => e.type === type && (!status || e.data.status === status))?.seq ?? -1
  const firstThreeStarted = logs.slice(0, 3).map((l) => seqOf(l, 'status', 'running'))
  const firstThreeCompleted = logs.slice(0, 3).map((l) => seqOf(l, 'completed'))
  t.ok(Math.max(...firstThreeStarted) < Math.min(...firstThreeCompleted), 'the three ran in parallel: all started before any finished')
  t.ok(seqOf(logs[3]!, 'status', 'running') > Math.max(...firstThreeCompleted), 'the fourth ran after them')
  const fourth = (await app.threads.log.messages(children[3]!.id)).find((m) => m.role === 'assistant')
  t.ok(fourth, 'the fourth answered')
  // Its own task ("Compare the results of the three") says nothing of research: the simulator's answer names the
  // key terms of what it was given, and "research" is in the three results (and their tasks), so it got them.
  t.notMatch(children[3]!.task, /research/i)
  t.match(fourth?.text, /\bresearch\b/, 'the fourth step\'s answer draws on the results of the three')
  t.notMatch(fourth?.text, /\bcompare\b/i, 'rather than on its own words alone')
  for (const [i, log] of logs.entries()) {
    t.equal(log.filter((e) => TERMINAL.includes(e.type)).length, 1, `step ${i + 1}: exactly one terminal event`)
    t.equal(log.filter((e) => e.type === 'closed').length, 1, `step ${i + 1}: closed once`)
    t.ok(log.filter((e) => e.type === 'token').length > 5, `step ${i + 1}: tokens were published as they streamed`)
  }

  const main = (await get<{ messages: ThreadMessage[] }>(app, '/threads/main/messages')).messages
  const reports = main.filter((m) => m.role === 'report')
  t.same(reports.map((m) => m.from).sort(), [...done.children, task.id].sort(), 'four reports and the final answer, each once, linked to its thread')
  t.equal(reports.find((m) => m.from === task.id)?.text, done.result)

  const tree = await get<{ id: string, status: string, children: Array<{ status: string }> }>(app, `/threads/${task.id}/tree`)
  t.equal(tree.status, 'completed')
  t.same(tree.children.map((c) => c.status), ['completed', 'completed', 'completed', 'completed'])
  const mainTree = await get<{ children: Array<{ id: string }> }>(app, '/threads/main/tree')
  t.ok(mainTree.children.some((c) => c.id === task.id), 'the main thread\'s tree holds the task')

  const closed = await app.inject({ method: 'POST', url: `/threads/${task.id}/messages`, headers: auth(), payload: { text: 'one more thing' } })
  t.equal(closed.statusCode, 409, 'closed means closed')
  t.equal(closed.json().error.code, 'THREADS_CLOSED')

  const taskLog = await events(app, task.id)
  t.same(taskLog.filter((e) => TERMINAL.includes(e.type)).map((e) => e.type), ['completed'], 'the task: exactly one terminal event')
  t.equal(taskLog.filter((e) => e.type === 'closed').length, 1, 'the task: closed once')

  // The API's filters.
  const byParent = (await get<{ threads: ThreadRecord[] }>(app, `/threads?parent=${task.id}`)).threads
  t.same(byParent.map((r) => r.id).sort(), [...done.children].sort(), '?parent= gives the four steps')
  const completedInTree = (await get<{ threads: ThreadRecord[] }>(app, `/threads?status=completed&root=${task.id}`)).threads
  t.same(completedInTree.map((r) => r.id).sort(), [task.id, ...done.children].sort(), '?status=completed&root= gives the task and its steps')
  t.same((await get<{ threads: ThreadRecord[] }>(app, `/threads?status=running&root=${task.id}`)).threads, [], 'and none of them is running')
  const cut = reports[1]!.seq
  const later = (await get<{ messages: ThreadMessage[] }>(app, `/threads/main/messages?after=${cut}`)).messages
  t.same(later.map((m) => m.id), main.filter((m) => m.seq > cut).map((m) => m.id), '?after= gives only the later messages')
  t.ok(later.length > 0 && later.every((m) => m.seq > cut))

  // A report published again with its dedup id (a redelivered step) is dropped by JetStream.
  const again = await app.threads.log.publish('main', 'message', { id: `report-${children[0]!.id}`, thread: 'main', role: 'report', author: 'assistant', text: 'again', ts: new Date().toISOString(), from: children[0]!.id }, { msgID: `report:${children[0]!.id}` })
  t.equal(again.duplicate, true, 'the report\'s message id deduplicates it')
  const after = (await get<{ messages: ThreadMessage[] }>(app, '/threads/main/messages')).messages.filter((m) => m.role === 'report')
  t.same(after.map((m) => m.id), reports.map((m) => m.id), 'the main thread\'s reports are unchanged')

  // A task that needs no breaking down runs as one answer: no children, one report from the task itself.
  const limerick = (await app.inject({ method: 'POST', url: '/tasks', headers: auth(), payload: { task: 'Write a limerick about a cat' } })).json() as ThreadRecord
  const one = await until('the one-step task', async () => {
    const r = await get<ThreadRecord>(app, `/threads/${limerick.id}`)
    return TERMINAL.includes(r.status) ? r : null
  })
  t.equal(one.status, 'completed')
  t.same(one.children, [], 'no child threads')
  t.match(one.result, /cat|limerick/)
  const oneReports = (await get<{ messages: ThreadMessage[] }>(app, `/threads/main/messages?after=${cut}`)).messages.filter((m) => m.role === 'report' && (m.from === limerick.id || m.text === one.result))
  t.same(oneReports.map((m) => m.from), [limerick.id], 'one report, from the task')
})

test('the main thread is created once: the same id and record across restarts and two instances started together', async (t) => {
  const n = await nats(t)
  const base = await simulator(t)
  const env = { NATS_URL: n.url, OPENAI_BASE_URL: base, OPENAI_API_KEY: 'sim', MODEL_BACKEND: 'simulator' }
  const [a, b] = await Promise.all([build(t, env), build(t, env)])
  const ma = await get<ThreadRecord>(a, '/threads/main')
  const mb = await get<ThreadRecord>(b, '/threads/main')
  t.equal(ma.id, 'main')
  t.same(ma, mb)
  await a.close()
  const c = await build(t, env)
  t.same(await get<ThreadRecord>(c, '/threads/main'), ma, 'found again after a restart')
  t.equal((await events(c, 'main')).filter((e) => e.type === 'created').length, 1, 'one created event')
  const cancel = await c.inject({ method: 'POST', url: '/threads/main/cancel', headers: auth() })
  t.equal(cancel.statusCode, 409, 'the main thread is never cancelled')
})

test('the main thread is a conversation: a message gets a streamed reply', async (t) => {
  const { app } = await engine(t)
  const posted = await app.inject({ method: 'POST', url: '/threads/main/messages', headers: auth('alice'), payload: { text: 'What is a good name for a sailing boat?' } })
  t.equal(posted.statusCode, 201)
  const reply = await until('the reply', async () => (await app.threads.log.messages('main')).find((m) => m.role === 'assistant'))
  t.match(reply.text, /sailing|boat/)
  const tokens = (await events(app, 'main')).filter((e) => e.type === 'token').map((e) => e.data.token).join('')
  t.equal(tokens, reply.text, 'the tokens streamed add up to the reply')
})

test('cancel on a parent cancels every descendant (a subtask of a step too), with exactly one terminal event each; model calls stop', async (t) => {
  const { app } = await engine(t, { SIM_TOKENS_PER_SECOND: '15' })
  const task = (await app.inject({ method: 'POST', url: '/tasks', headers: auth(), payload: { task: '1. Write about rivers in 300 words\n2. Write about lakes in 300 words\n3. Write about seas in 300 words\n4. Combine the results' } })).json() as ThreadRecord
  const waiting = await until('steps to start', async () => {
    const r = await get<ThreadRecord>(app, `/threads/${task.id}`)
    if (r.children.length !== 4) return null
    const kids = await Promise.all(r.children.map((c) => get<ThreadRecord>(app, `/threads/${c}`)))
    const running = kids.find((k) => k.status === 'running')
    return running ? { r, running } : null
  })
  // A depth-2 descendant: a subtask of the running step (at THREADS_MAX_DEPTH it answers directly, streaming).
  const sub = await app.inject({ method: 'POST', url: '/tasks', headers: auth(), payload: { task: 'Write about river deltas in 300 words', parent: waiting.running.id } })
  t.equal(sub.statusCode, 201)
  const subtask = sub.json() as ThreadRecord
  t.equal(subtask.depth, 3)
  await until('the subtask to stream', async () => (await events(app, subtask.id)).some((e) => e.type === 'token'))
  const active = async (): Promise<number> => (await get<{ models: Array<{ model: string, active: number }> }>(app, '/models/stats')).models.find((m) => m.model === 'skein-sim-1')?.active ?? 0
  t.ok(await active() >= 2, 'a step and the subtask are generating')

  const everyone = [task.id, ...waiting.r.children, subtask.id]
  const res = await app.inject({ method: 'POST', url: `/threads/${task.id}/cancel`, headers: auth() })
  t.equal(res.statusCode, 200)
  t.same(res.json().cancelled.sort(), [...everyone].sort(), 'the task, its four steps and the step\'s subtask')
  const cancelledAt = Date.now()
  // Without the abort the step and the subtask would stream for another ~20 s (300 words at 15 tokens/s).
  await until('every model call to stop', async () => (await active()) === 0, 2_000)
  t.pass(`in-flight model calls aborted ${Date.now() - cancelledAt} ms after the cancel`)
  const tokens = async (): Promise<number[]> => await Promise.all(everyone.map(async (id) => (await events(app, id)).filter((e) => e.type === 'token').length))
  const before = await tokens()
  await new Promise((resolve) => setTimeout(resolve, 700))
  t.same(await tokens(), before, 'no thread streams another token')
  for (const id of everyone) {
    const r = await get<ThreadRecord>(app, `/threads/${id}`)
    t.equal(r.status, 'cancelled', `${id} cancelled`)
    const log = await events(app, id)
    t.same(log.filter((e) => TERMINAL.includes(e.type)).map((e) => e.type), ['cancelled'], `${id}: exactly one terminal event`)
    t.equal(log.filter((e) => e.type === 'closed').length, 1, `${id}: closed once`)
  }
  const again = await app.inject({ method: 'POST', url: `/threads/${task.id}/cancel`, headers: auth() })
  t.same(again.json().cancelled, [], 'cancelling again changes nothing')
  const late = await app.inject({ method: 'POST', url: `/threads/${waiting.running.id}/messages`, headers: auth(), payload: { text: 'are you still there?' } })
  t.equal(late.statusCode, 409, 'a cancelled thread takes no message')
  t.equal(late.json().error.code, 'THREADS_CLOSED')
})

test('bounds: a task asking for a thousand subtasks stops at the bound and says so; depth is bounded; the process stays healthy', async (t) => {
  const { app } = await engine(t, {}, { THREADS_MAX_DEPTH: '2' })
  const huge = Array.from({ length: 1000 }, (_v, i) => `${i + 1}. Subtask number ${i + 1}`).join('\n')
  const task = (await app.inject({ method: 'POST', url: '/tasks', headers: auth(), payload: { task: huge } })).json() as ThreadRecord
  const failed = await until('the bound', async () => {
    const r = await get<ThreadRecord>(app, `/threads/${task.id}`)
    return TERMINAL.includes(r.status) ? r : null
  })
  t.equal(failed.status, 'failed')
  t.equal(failed.error?.code, 'THREADS_BOUND_EXCEEDED')
  t.same(failed.children, [], 'nothing was spawned')
  const said = await app.threads.log.messages(task.id)
  t.match(said.map((m) => m.text).join('\n'), /at most 8 \(THREADS_MAX_CHILDREN\)/, 'the thread says so')

  const deep = (await app.inject({ method: 'POST', url: '/tasks', headers: auth(), payload: { task: 'a small task', parent: task.id } }))
  t.equal(deep.statusCode, 409, 'a closed parent takes no subtask')
  const open = (await app.inject({ method: 'POST', url: '/tasks', headers: auth(), payload: { task: '1. one thing\n2. another thing' } })).json() as ThreadRecord
  const child = (await app.inject({ method: 'POST', url: '/tasks', headers: auth(), payload: { task: 'go one level down', parent: open.id } }))
  const tooDeep = child.statusCode === 201 ? await app.inject({ method: 'POST', url: '/tasks', headers: auth(), payload: { task: 'and one more', parent: child.json().id } }) : child
  t.equal(tooDeep.statusCode, 422)
  t.match(tooDeep.json().error.message, /THREADS_MAX_DEPTH/)
  t.equal((await app.inject({ url: '/health' })).statusCode, 200, 'healthy')
})

test('bad input: unknown thread, bad ids, empty tasks', async (t) => {
  const { app } = await engine(t)
  t.equal((await app.inject({ url: '/threads/nope', headers: auth() })).statusCode, 404)
  t.equal((await app.inject({ url: '/threads/a.b', headers: auth() })).statusCode, 400, 'ids cannot smuggle subject tokens')
  t.equal((await app.inject({ url: '/threads/*', headers: auth() })).statusCode, 400)
  const empty = await app.inject({ method: 'POST', url: '/tasks', headers: auth(), payload: { task: '' } })
  t.equal(empty.statusCode, 400)
  t.match(empty.json().error.message, /body\/task/)
  t.equal((await app.inject({ method: 'POST', url: '/threads/nope/messages', headers: auth(), payload: { text: 'hi' } })).statusCode, 404)
  for (const query of ['limit=0', 'limit=1001', 'before=0', 'limit=ten']) {
    const bad = await app.inject({ url: `/threads/main/messages?${query}`, headers: auth() })
    t.equal(bad.statusCode, 400, `messages?${query} is refused`)
    t.match(bad.json().error.message, /querystring\/(limit|before)/)
  }
})

test('a thread\'s messages a page at a time: the newest with limit, earlier ones with before', async (t) => {
  const { app } = await engine(t)
  // People talking in a room (as the funnel posts them): no answers in between.
  const thread = (await app.threads.engine.createConversation({ owner: 'alice' })).record.id
  for (let i = 0; i < 12; i++) await app.threads.engine.postMessage(thread, `line ${i}`, 'alice', { reply: false })
  const page = async (query: string): Promise<{ messages: ThreadMessage[], more: boolean }> => await get(app, `/threads/${thread}/messages?${query}`)
  const texts = (ms: ThreadMessage[]): string[] => ms.map((m) => m.text)
  const lines = (from: number, to: number): string[] => Array.from({ length: to - from }, (_x, i) => `line ${from + i}`)
  const newest = await page('limit=5')
  t.same(texts(newest.messages), lines(7, 12), 'the newest five, in order')
  t.equal(newest.more, true)
  const earlier = await page(`limit=5&before=${newest.messages[0]!.seq}`)
  t.same(texts(earlier.messages), lines(2, 7), 'the five before them')
  t.equal(earlier.more, true)
  const first = await page(`limit=5&before=${earlier.messages[0]!.seq}`)
  t.same([texts(first.messages), first.more], [lines(0, 2), false], 'the first two, and nothing more')
  const whole = await page('')
  t.same([texts(whole.messages), whole.more], [lines(0, 12), false], 'without limit: all of them, as before')
  t.same(texts((await page(`before=${newest.messages[0]!.seq}`)).messages), lines(0, 7), 'before alone: all before it')
})

test('subtasks of subtasks without end stop at the depth bound; tools are real function calls', async (t) => {
  const { app } = await engine(t, {}, { THREADS_MAX_DEPTH: '3' })
  const task = (await app.inject({ method: 'POST', url: '/tasks', headers: auth(), payload: { task: 'Spawn a subtask that will spawn a subtask that will spawn a subtask, forever' } })).json() as ThreadRecord
  const settled = await until('every thread of the tree to finish', async () => {
    const all = (await get<{ threads: ThreadRecord[] }>(app, `/threads?root=${task.id}`)).threads
    return all.length > 1 && all.every((r) => TERMINAL.includes(r.status)) ? all : null
  }, 60_000)
  const depths = settled.map((r) => r.depth)
  t.ok(settled.some((r) => r.kind === 'task' && r.parent !== 'main'), 'the assistant spawned subtasks through the tool')
  t.ok(Math.max(...depths) <= 3, `no thread deeper than the bound (deepest ${Math.max(...depths)})`)
  t.ok(settled.length <= 16, `the tree stayed small (${settled.length} threads)`)
  t.ok(settled.every((r) => r.status === 'completed'), 'and every thread finished')
  const said = (await Promise.all(settled.map((r) => app.threads.log.messages(r.id)))).flat()
  t.ok(said.some((m) => m.role === 'system' && /Not spawned: .*THREADS_MAX_DEPTH/.test(m.text)), 'the deepest thread says it stopped at the bound')
  t.equal((await app.inject({ url: '/health' })).statusCode, 200)
})

test('cancelling one step fails its task instead of leaving it waiting', async (t) => {
  const { app } = await engine(t, { SIM_TOKENS_PER_SECOND: '15' })
  const task = (await app.inject({ method: 'POST', url: '/tasks', headers: auth(), payload: { task: '1. Measure the tide\n2. Explain the tide using the results' } })).json() as ThreadRecord
  const r = await until('the steps', async () => {
    const x = await get<ThreadRecord>(app, `/threads/${task.id}`)
    return x.children.length === 2 ? x : null
  })
  const res = await app.inject({ method: 'POST', url: `/threads/${r.children[0]}/cancel`, headers: auth() })
  t.same(res.json().cancelled, [r.children[0]])
  const ended = await until('the task to end', async () => {
    const x = await get<ThreadRecord>(app, `/threads/${task.id}`)
    return TERMINAL.includes(x.status) ? x : null
  })
  t.equal(ended.status, 'failed')
  t.equal(ended.error?.code, 'THREADS_STEP_FAILED')
  const second = await get<ThreadRecord>(app, `/threads/${r.children[1]}`)
  t.equal(second.status, 'cancelled', 'the step that depended on it is cancelled, not left waiting')
  t.same((await events(app, second.id)).filter((e) => TERMINAL.includes(e.type)).map((e) => e.type), ['cancelled'])
})
