import { test } from 'tap'
import { WsClient } from '@skein/stack'
import type { ThreadMessage, ThreadRecord } from '@skein/schemas'
import { answersTo, authed, funnel, joined, natsServer, openaiService, simulator, token, until } from './helper.js'

test('NATS killed and restarted mid-answer and mid-task: every token, message and report is there exactly once', async (t) => {
  const nats = await natsServer(t)
  const sim = await simulator(t, { SIM_TOKENS_PER_SECOND: '60' })
  const svc = await openaiService(t, nats.url, sim)
  const f = await funnel(t, nats.url, svc.url)
  const alice = await WsClient.connect(f.url, token('alice'))
  t.teardown(() => alice.close())
  await alice.request('create_room', { room: 'harbour' })
  await alice.request('join_room', { room: 'harbour' })

  const asked = await alice.request('llm_request', { room: 'harbour', message: 'Tell me about harbours and tides in 400 words' })
  const task = await (await fetch(`${f.url}/tasks`, { method: 'POST', headers: authed(), body: JSON.stringify({ task: '1. Describe the tide\n2. Describe the wind\n3. Combine the results into a sailing plan' }) })).json() as ThreadRecord
  await alice.until((fs) => fs.filter((x) => x.event === 'llm_token').length >= 60, 30_000)

  // The only NATS server dies (SIGKILL) and comes back on the same port and store 1.5 s later.
  await nats.kill()
  const duringOutage = alice.request('message', { room: 'harbour', text: 'sent while NATS was down' }).catch((e: unknown) => e as Record<string, unknown>)
  await new Promise((resolve) => setTimeout(resolve, 1_500))
  await nats.restart()
  const restarted = Date.now()

  const answerId = String(asked.messageId)
  await alice.until((fs) => answersTo(fs, answerId).some((a) => a.completions.some((c) => c.finishReason === 'stop')), 90_000)
  t.comment(`the answer completed ${Date.now() - restarted} ms after NATS came back`)
  const answers = answersTo(alice.frames, answerId)
  const finals = answers.flatMap((a) => a.completions.filter((c) => c.finishReason === 'stop'))
  t.equal(finals.length, 1, 'the question got exactly one complete answer')
  for (const a of answers) {
    t.same(a.repeated, [], `${a.messageId}: no token twice`)
    t.equal(new Set(a.seqs).size, a.seqs.length, `${a.messageId}: no seq twice`)
    t.equal(a.completions.length, 1, `${a.messageId}: ends once (${a.completions.map((c) => c.finishReason).join(', ')})`)
    t.equal(joined(a), a.completions[0]?.text, `${a.messageId}: its tokens make exactly its text, with none missing`)
  }

  // A message sent while NATS was away is stored once (the funnel tries again under the same msgID), or
  // refused as not stored (send it again), or reported as unconfirmed (look for it first): never stored twice.
  const sent = await duringOutage
  const messages = await until('the room\'s messages', async () => (await (await fetch(`${f.url}/threads/harbour/messages`, { headers: authed() })).json() as { messages: ThreadMessage[] }).messages)
  const copies = messages.filter((m) => m.text === 'sent while NATS was down').length
  if (typeof sent.seq === 'number') t.equal(copies, 1, 'acknowledged during the outage: stored exactly once')
  else if (sent.code === 'FUNNEL_UNAVAILABLE') t.equal(copies, 0, 'refused during the outage as not stored: it is not there, and may be sent again')
  else t.same([sent.code, copies <= 1], ['FUNNEL_UNCONFIRMED', true], `unconfirmed during the outage: stored at most once (${copies})`)

  const done = await until('the task', async () => {
    const r = await (await fetch(`${f.url}/threads/${task.id}`, { headers: authed() })).json() as ThreadRecord
    return ['completed', 'failed', 'cancelled'].includes(r.status) ? r : null
  }, 90_000)
  t.equal(done.status, 'completed', 'the task survived the outage')
  t.comment(`the task completed ${Date.now() - restarted} ms after NATS came back`)
  const main = (await (await fetch(`${f.url}/threads/main/messages`, { headers: authed() })).json() as { messages: ThreadMessage[] }).messages
  const reports = main.filter((m) => m.role === 'report' && (m.from === task.id || done.children.includes(m.from ?? ''))).map((m) => m.from)
  t.same(reports.sort(), [...done.children, task.id].sort(), 'one report per step and one for the task, none twice')
})
