import { test } from 'tap'
import { WsClient } from '@skein/stack'
import type { ThreadMessage, ThreadRecord } from '@skein/schemas'
import { answersTo, authed, funnel, joined, natsCluster, openaiService, rejoin, simulator, token, until } from './helper.js'

test('a three-node NATS cluster, two funnels, two openai-services: one of each dies mid-task and mid-answer, nothing is lost', async (t) => {
  const cluster = await natsCluster(t)
  const sim = await simulator(t, { SIM_TOKENS_PER_SECOND: '60' })
  const env = { NATS_REPLICAS: '3', THREADS_ACK_WAIT_MS: '3000' }
  // Each process is given the three nodes in a different order, so that they are spread over the cluster.
  const [a, b] = [cluster.url, cluster.url.split(',').reverse().join(',')]
  const svcA = await openaiService(t, a, sim, env)
  const svcB = await openaiService(t, b, sim, env)
  const [f1, f2] = await Promise.all([funnel(t, a, svcA.url), funnel(t, b, svcB.url)])

  const ann = await WsClient.connect(f1.url, token('ann'))
  const ben = await WsClient.connect(f2.url, token('ben'))
  t.teardown(() => Promise.all([ann.close(), ben.close()]))
  await ann.request('create_room', { room: 'fleet' })
  await ann.request('join_room', { room: 'fleet' })
  await ben.request('join_room', { room: 'fleet' })
  const asked = await ben.request('llm_request', { room: 'fleet', message: 'Tell me about sailing fleets in 500 words' })
  const answerId = String(asked.messageId)
  const task = await (await fetch(`${f2.url}/tasks`, { method: 'POST', headers: authed(), body: JSON.stringify({ task: '1. Describe the harbour\n2. Describe the ships\n3. Combine the results' }) })).json() as ThreadRecord
  await ann.until((fs) => fs.filter((x) => x.event === 'llm_token').length >= 50, 60_000)

  // One NATS node, one openai-service and one funnel die together; ann was on that funnel.
  const seenBefore = [...ann.frames]
  const lastSeq = Math.max(0, ...seenBefore.filter((x) => x.data.room === 'fleet' && typeof x.data.seq === 'number').map((x) => x.data.seq as number))
  await Promise.all([cluster.nodes[0]!.kill(), svcA.proc.kill(), f1.proc.kill()])
  await ann.until(() => ann.closed !== null, 10_000)
  const back = await WsClient.connect(f2.url, token('ann'))
  t.teardown(() => back.close())
  await rejoin(back, 'fleet', lastSeq)

  for (const [who, frames] of [['ben', () => ben.frames], ['ann', () => [...seenBefore, ...back.frames]]] as const) {
    await until(`${who}'s complete answer`, () => answersTo(frames(), answerId).some((x) => x.completions.some((c) => c.finishReason === 'stop')), 90_000)
    const answers = answersTo(frames(), answerId)
    t.equal(answers.flatMap((x) => x.completions).filter((c) => c.finishReason === 'stop').length, 1, `${who}: one complete answer`)
    for (const x of answers) {
      t.same(x.repeated, [], `${who} ${x.messageId}: no token twice`)
      t.equal(new Set(x.seqs).size, x.seqs.length, `${who} ${x.messageId}: no seq twice`)
      t.equal(joined(x), x.completions[0]?.text, `${who} ${x.messageId}: its tokens make exactly its text (${x.completions[0]?.finishReason})`)
    }
  }

  const done = await until('the task', async () => {
    const r = await (await fetch(`${f2.url}/threads/${task.id}`, { headers: authed() })).json() as ThreadRecord
    return ['completed', 'failed', 'cancelled'].includes(r.status) ? r : null
  }, 120_000)
  t.equal(done.status, 'completed', 'the task finished on the survivors')
  // Read as a client does: a 503 while the cluster settles is asked again (the last answer is named if it lasts).
  let answer = ''
  const main = await until('main\'s messages', async () => {
    const res = await fetch(`${f2.url}/threads/main/messages`, { headers: authed() })
    const body = await res.json() as { messages?: ThreadMessage[] }
    answer = `${res.status} ${JSON.stringify(body).slice(0, 300)}`
    return res.ok ? body.messages : null
  }, 30_000).catch((err: Error) => { throw new Error(`${err.message}; last answer: ${answer}`) })
  const reports = main.filter((m) => m.role === 'report' && (m.from === task.id || done.children.includes(m.from ?? ''))).map((m) => m.from)
  t.same(reports.sort(), [...done.children, task.id].sort(), 'one report per step and one for the task, none twice')
  const health = await (await fetch(`${f2.url}/health/funnel`)).json() as { status: string }
  t.equal(health.status, 'ok', 'the surviving funnel is healthy')
})
