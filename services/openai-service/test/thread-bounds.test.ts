import t, { test } from 'tap'
import type { FastifyInstance } from 'fastify'
import type { ThreadRecord } from '@skein/schemas'
import { auth, build, nats, simulator } from './helper.js'

// The bounds the threads engine keeps besides depth and children (tested in threads.test.ts): threads and tokens
// per task tree, wall time per model call, deliveries per work item. Each ends the task `failed`, never
// `running`, and the task says which bound it met.

type T = Parameters<Parameters<typeof test>[1]>[0]
const TERMINAL = ['completed', 'failed', 'cancelled']

async function engine (t: T, sim: Record<string, string>, env: Record<string, string>): Promise<FastifyInstance> {
  const n = await nats(t)
  const base = await simulator(t, { SIM_TOKENS_PER_SECOND: '400', ...sim })
  return await build(t, { NATS_URL: n.url, OPENAI_BASE_URL: base, OPENAI_API_KEY: 'sim', MODEL_BACKEND: 'simulator', THREADS_WORKERS: '4', ...env })
}

const get = async <V>(app: FastifyInstance, url: string): Promise<V> => (await app.inject({ url, headers: auth() })).json() as V

/** Starts a task and waits for it to end; its record, and everything said in its tree. */
async function run (app: FastifyInstance, task: string, timeoutMs = 20_000): Promise<{ record: ThreadRecord, said: string, tree: ThreadRecord[] }> {
  const created = await app.inject({ method: 'POST', url: '/tasks', headers: auth(), payload: { task } })
  if (created.statusCode !== 201) throw new Error(`POST /tasks answered ${created.statusCode}: ${created.body}`)
  const id = (created.json() as ThreadRecord).id
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const record = await get<ThreadRecord>(app, `/threads/${id}`)
    if (TERMINAL.includes(record.status)) {
      const tree = (await get<{ threads: ThreadRecord[] }>(app, `/threads?root=${id}`)).threads
      const said = (await Promise.all(tree.map((r) => app.threads.log.messages(r.id)))).flat().map((m) => m.text).join('\n')
      return { record, said, tree }
    }
    if (Date.now() > deadline) throw new Error(`task ${id} still ${record.status} after ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

t.jobs = 4

test('THREADS_MAX_PER_ROOT: a plan that would outgrow the tree spawns nothing and says so', async (t) => {
  const app = await engine(t, {}, { THREADS_MAX_PER_ROOT: '3' })
  const { record, said, tree } = await run(app, '1. Research cats\n2. Research dogs\n3. Research birds\n4. Compare the results of the three')
  t.equal(record.status, 'failed')
  t.equal(record.error?.code, 'THREADS_BOUND_EXCEEDED')
  t.match(record.error?.message, /THREADS_MAX_PER_ROOT/)
  t.same(record.children, [], 'nothing was spawned')
  t.equal(tree.length, 1, 'the tree is the task alone')
  t.match(said, /the limit is 3 \(THREADS_MAX_PER_ROOT\)/, 'the thread says so')
})

test('THREADS_MAX_TOKENS_PER_ROOT: once the tree has spent its tokens, no step calls the model again', async (t) => {
  const app = await engine(t, {}, { THREADS_MAX_TOKENS_PER_ROOT: '100', THREADS_STEP_ATTEMPTS: '1' })
  const { record, said, tree } = await run(app, '1. Describe the sun\n2. Describe the moon\n3. Compare the sun and the moon using the results')
  t.equal(record.status, 'failed')
  t.match(record.error?.message, /THREADS_MAX_TOKENS_PER_ROOT \(100\)/, 'the task names the bound')
  t.match(said, /the limit is THREADS_MAX_TOKENS_PER_ROOT \(100\)/, 'and says so in its tree')
  t.ok(tree.every((r) => TERMINAL.includes(r.status)), `no thread left running (${tree.map((r) => r.status).join(', ')})`)
  const steps = tree.filter((r) => r.kind === 'step')
  t.ok(steps.length > 0 && steps.every((s) => s.result === null), 'no step got an answer')
  t.equal(steps.reduce((sum, s) => sum + s.usage.completionTokens, 0), 0, 'the steps spent no tokens')
})

test('THREADS_STEP_TIMEOUT_MS: a model call slower than the wall time ends the thread failed, not running', async (t) => {
  // At THREADS_MAX_DEPTH=1 a task is not planned: it runs as one step, whose answer at 5 tokens/s takes ~15 s.
  const app = await engine(t, { SIM_TOKENS_PER_SECOND: '5' }, { THREADS_STEP_TIMEOUT_MS: '200', THREADS_STEP_ATTEMPTS: '1', THREADS_MAX_DEPTH: '1', MODEL_MAX_RETRIES: '0' })
  const started = Date.now()
  const { record, said } = await run(app, 'Write a limerick about a cat')
  t.equal(record.status, 'failed')
  t.equal(record.error?.code, 'THREADS_WORK_FAILED')
  t.ok(Date.now() - started < 5_000, `ended by the wall time, not by the answer (${Date.now() - started} ms)`)
  t.equal(record.result, null, 'no answer')
  t.match(said, /failed after every attempt: Timed out: the model call ran past THREADS_STEP_TIMEOUT_MS \(200 ms\)/, 'the thread says which bound ended it')
})

test('THREADS_STEP_ATTEMPTS: a work item that fails is delivered at most that many times', async (t) => {
  // The model fails the first request only (the plan); a second delivery would succeed, one delivery may not.
  const once = await engine(t, { SIM_FAULT: 'status=500,times=1' }, { THREADS_STEP_ATTEMPTS: '1', MODEL_MAX_RETRIES: '0' })
  const failed = await run(once, 'Write a limerick about a cat')
  t.equal(failed.record.status, 'failed', 'one attempt: failed')
  t.equal(failed.record.error?.code, 'THREADS_WORK_FAILED')
  t.match(failed.said, /plan failed after every attempt/)

  const twice = await engine(t, { SIM_FAULT: 'status=500,times=1' }, { THREADS_STEP_ATTEMPTS: '2', MODEL_MAX_RETRIES: '0' })
  const redelivered = await run(twice, 'Write a limerick about a cat')
  t.equal(redelivered.record.status, 'completed', 'two attempts: the second delivery succeeds')
})
