import { test } from 'tap'
import type { ThreadMessage, ThreadRecord } from '@skein/schemas'
import { WsClient } from '@skein/stack'
import { answersTo, authed, funnel, joined, natsServer, openaiService, simulator, token, until } from './helper.js'
import { NatsTap } from './nats-tap.js'

test('the openai-service killed mid-answer: the answer ends interrupted, another instance answers in full, nothing twice', async (t) => {
  const nats = await natsServer(t)
  const sim = await simulator(t, { SIM_TOKENS_PER_SECOND: '80' })
  const first = await openaiService(t, nats.url, sim)
  const f = await funnel(t, nats.url, first.url)
  const [alice, bob] = await Promise.all([WsClient.connect(f.url, token('alice')), WsClient.connect(f.url, token('bob'))])
  t.teardown(() => Promise.all([alice.close(), bob.close()]))
  await alice.request('create_room', { room: 'lighthouse' })
  await alice.request('join_room', { room: 'lighthouse' })
  await bob.request('join_room', { room: 'lighthouse' })

  const asked = await alice.request('llm_request', { room: 'lighthouse', message: 'Tell me how lighthouses work in 600 words' })
  const answerId = String(asked.messageId)
  await bob.until((fs) => fs.filter((x) => x.event === 'llm_token').length >= 40, 30_000)
  // A second instance comes up; the one answering dies without a word (SIGKILL).
  await openaiService(t, nats.url, sim)
  await first.proc.kill()

  for (const c of [alice, bob]) {
    await c.until((fs) => answersTo(fs, answerId).some((a) => a.completions.some((x) => x.finishReason === 'stop')), 60_000)
    const answers = answersTo(c.frames, answerId)
    const interrupted = answers.filter((a) => a.completions.some((x) => x.finishReason === 'interrupted'))
    const complete = answers.filter((a) => a.completions.some((x) => x.finishReason === 'stop'))
    t.equal(interrupted.length, 1, 'the answer under way when its instance died ends, marked interrupted: never left streaming')
    t.equal(interrupted[0]?.messageId, answerId)
    t.equal(complete.length, 1, 'exactly one complete answer, from the other instance')
    t.equal(complete[0]?.messageId, `${answerId}~2`, 'streamed under its own message id')
    for (const a of answers) {
      t.same(a.repeated, [], `${a.messageId}: no token twice`)
      t.equal(a.completions.length, 1, `${a.messageId}: ends once`)
      t.equal(joined(a), a.completions[0]?.text, `${a.messageId}: its tokens make exactly its text`)
    }
    t.equal(complete[0]!.completions[0]!.text.split(/\s+/).length, 600, 'the complete answer is whole')
  }
})

test('the openai-service killed after posting a report and before acking its work: the redelivered work posts nothing twice', async (t) => {
  const nats = await natsServer(t)
  const sim = await simulator(t, { SIM_TOKENS_PER_SECOND: '400' })
  // Instance A reaches NATS through a tap that lets nothing more through once the first report is published:
  // the step's answer is stored and reported, its work item not acked, its thread not yet marked completed.
  const tap = await NatsTap.start(nats.url, 'Nats-Msg-Id: report:')
  t.teardown(() => tap.close())
  const a = await openaiService(t, tap.url, sim)
  const get = async <V>(url: string): Promise<V> => await (await fetch(url, { headers: authed() })).json() as V
  const task = await (await fetch(`${a.url}/tasks`, { method: 'POST', headers: authed(), body: JSON.stringify({ task: '1. Describe the sun\n2. Describe the moon' }) })).json() as ThreadRecord

  const publish = await tap.muted
  const reported = /report:([\w-]+)/.exec(publish)?.[1]
  await a.proc.kill()
  t.ok(reported, `instance A died right after posting the report of ${reported}`)

  const b = await openaiService(t, nats.url, sim)
  const done = await until('the task to finish on B', async () => {
    const r = await get<ThreadRecord>(`${b.url}/threads/${task.id}`)
    return ['completed', 'failed', 'cancelled'].includes(r.status) ? r : null
  })
  t.equal(done.status, 'completed')
  t.ok(done.children.includes(reported!), 'the report A posted was a step of the task')
  const step = await get<ThreadRecord>(`${b.url}/threads/${reported}`)
  t.equal(step.status, 'completed', 'B finished the step A had reported but not acked')
  const { messages } = await get<{ messages: ThreadMessage[] }>(`${b.url}/threads/main/messages`)
  const reports = messages.filter((m) => m.role === 'report').map((m) => m.from).sort()
  t.same(reports, [...done.children, task.id].sort(), 'each step reported once, and the final answer once')
  const answers = (await get<{ messages: ThreadMessage[] }>(`${b.url}/threads/${reported}/messages`)).messages.filter((m) => m.role === 'assistant')
  t.equal(answers.length, 1, 'the step\'s answer is in its thread once')
})
