import { test } from 'tap'
import { WsClient } from '@skein/stack'
import { answersTo, funnel, joined, natsServer, openaiService, simulator, token } from './helper.js'

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
