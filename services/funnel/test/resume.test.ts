import t from 'tap'
import { SECRET, nats, threadsEngine, token } from './helper.js'
import { WsClient, startServiceProcess, type Frame, type ServiceProcess } from '@skein/stack'

// Real funnel processes (so that one can be killed and restarted), one NATS, one threads engine streaming at
// 50 tokens a second (the simulator's default): a 500-token answer takes ten seconds.
const n = await nats(t)
const engine = await threadsEngine(t, n.url, { SIM_TOKENS_PER_SECOND: '50' })

async function funnel (port?: number): Promise<ServiceProcess> {
  const f = await startServiceProcess({
    name: 'funnel',
    entry: 'services/funnel/dist/server.js',
    ready: '/health/funnel',
    ...(port ? { port } : {}),
    env: { NATS_URL: n.url, OPENAI_SERVICE_URL: engine.url, CHROMA_SERVICE_URL: 'http://127.0.0.1:9', JWT_SECRET: SECRET, WS_PRESENCE_INTERVAL_MS: '1000' }
  })
  t.teardown(() => f.stop())
  return f
}

const [f1, f2, f3] = await Promise.all([funnel(), funnel(), funnel()])

/** What a client made of an answer: the text from its tokens, and whether any seq came twice or out of order. */
function answerOf (frames: Frame[], messageId: string): { text: string, complete?: string, seqs: number[] } {
  const mine = frames.filter((f) => f.data.messageId === messageId && (f.event === 'llm_token' || f.event === 'llm_complete'))
  return {
    text: mine.filter((f) => f.event === 'llm_token').map((f) => f.data.token).join(''),
    complete: mine.find((f) => f.event === 'llm_complete')?.data.text as string | undefined,
    seqs: mine.map((f) => f.data.seq as number)
  }
}

const lastSeq = (c: WsClient, room: string): number => Math.max(0, ...c.frames.filter((f) => f.data.room === room && typeof f.data.seq === 'number').map((f) => f.data.seq as number))

t.test('a client dropped mid-stream and back 2 s or 5 s later with afterSeq ends with exactly the full text: on the same funnel, on another, after its funnel restarted', async (t) => {
  const asker = await WsClient.connect(f1.url, token('asker'))
  t.teardown(() => asker.close())
  await asker.request('create_room', { room: 'tides' })
  await asker.request('join_room', { room: 'tides' })
  const clients = { same: await WsClient.connect(f1.url, token('same')), other: await WsClient.connect(f2.url, token('other')), restarted: await WsClient.connect(f3.url, token('restarted')) }
  for (const c of Object.values(clients)) await c.request('join_room', { room: 'tides' })
  const ack = await asker.request('llm_request', { room: 'tides', message: 'Tell me about tides and the moon in 500 words' })
  const messageId = String(ack.messageId)

  // About a fifth of the way in, every client loses its connection; the third one's funnel dies with it.
  await clients.same.until((fs) => fs.filter((f) => f.event === 'llm_token').length >= 100)
  const before = Object.fromEntries(Object.entries(clients).map(([k, c]) => [k, { frames: [...c.frames], after: lastSeq(c, 'tides') }]))
  clients.same.drop()
  clients.other.drop()
  await f3.proc.kill()
  // One comes back after 2 s; the others after 5 s, one of them to a funnel that was not running meanwhile.
  await new Promise((resolve) => setTimeout(resolve, 2_000))
  const same = await WsClient.connect(f1.url, token('same'))
  await same.request('join_room', { room: 'tides', afterSeq: before.same!.after })
  await new Promise((resolve) => setTimeout(resolve, 3_000))
  await funnel(f3.port)
  const back = {
    same,
    other: await WsClient.connect(f1.url, token('other')), // it was on f2: it comes back on another funnel
    restarted: await WsClient.connect(f3.url, token('restarted'))
  }
  for (const [k, c] of Object.entries(back)) {
    t.teardown(() => c.close())
    if (c !== same) await c.request('join_room', { room: 'tides', afterSeq: before[k]!.after })
  }
  const full = (await asker.next((f) => f.event === 'llm_complete' && f.data.messageId === messageId, 60_000)).data.text as string
  t.equal(full.split(/\s+/).length, 500, 'the answer is 500 words long')
  for (const [k, c] of Object.entries(back)) {
    await c.next((f) => f.event === 'llm_complete' && f.data.messageId === messageId, 60_000)
    const seen = [...before[k]!.frames, ...c.frames]
    const a = answerOf(seen, messageId)
    t.ok(before[k]!.after > 0 && a.seqs.length > 0, `${k}: it had part of the answer before the drop`)
    t.equal(a.text, full, `${k}: the tokens before and after the drop make exactly the full text`)
    t.equal(a.complete, full, `${k}: and one llm_complete with it`)
    t.equal(new Set(a.seqs).size, a.seqs.length, `${k}: no seq twice`)
    t.ok(a.seqs.every((s, i) => i === 0 || s > a.seqs[i - 1]!), `${k}: in order`)
  }
})

t.test('two funnels, two clients each, one room: all four see the same events in the same order', async (t) => {
  const clients = await Promise.all([
    WsClient.connect(f1.url, token('ann')), WsClient.connect(f1.url, token('ben')),
    WsClient.connect(f2.url, token('cat')), WsClient.connect(f2.url, token('dan'))
  ])
  for (const c of clients) t.teardown(() => c.close())
  await clients[0]!.request('create_room', { room: 'harbour' })
  for (const c of clients) await c.request('join_room', { room: 'harbour' })
  // Presence is cluster-wide: everyone sees all four.
  for (const c of clients) await c.until((fs) => (fs.filter((f) => f.event === 'presence').pop()?.data.members as string[] | undefined)?.length === 4, 10_000)
  clients[2]!.send('typing', { room: 'harbour', typing: true })
  await clients[0]!.next((f) => f.event === 'user_typing' && f.data.user === 'cat', 5_000)

  const sends = clients.flatMap((c, i) => Array.from({ length: 10 }, (_x, k) => c.request('message', { room: 'harbour', text: `note ${i}-${k}` })))
  const asked = await clients[3]!.request('llm_request', { room: 'harbour', message: 'Describe a harbour at dawn in 40 words' })
  const sent = await Promise.all(sends)
  for (const c of clients) await c.next((f) => f.event === 'llm_complete' && f.data.messageId === asked.messageId, 30_000)
  // A message may be sequenced after the answer completes: wait until everyone has the room's last event.
  const complete = clients[0]!.frames.find((f) => f.event === 'llm_complete' && f.data.messageId === asked.messageId)!
  const last = Math.max(complete.data.seq as number, ...sent.map((a) => a.seq as number))
  for (const c of clients) await c.until((fs) => fs.some((f) => f.data.room === 'harbour' && typeof f.data.seq === 'number' && f.data.seq >= last), 10_000)

  // Each client's own messages come back as acks, not frames: add them in at their seq to compare whole logs.
  const logOf = (c: WsClient): string[] => {
    const own = c.frames.filter((f) => f.event === 'ack' && typeof f.data.seq === 'number' && f.data.room === 'harbour')
      .map((f) => ({ seq: f.data.seq as number, key: `message:${f.data.id as string}` }))
    const seen = c.frames.filter((f) => f.data.room === 'harbour' && typeof f.data.seq === 'number' && f.event !== 'ack')
      .map((f) => ({ seq: f.data.seq as number, key: `${f.event === 'new_message' ? 'message' : f.event}:${(f.data.id ?? f.data.messageId ?? '') as string}` }))
    return [...own, ...seen].sort((a, b) => a.seq - b.seq).map((e) => `${e.seq} ${e.key}`)
  }
  const logs = clients.map(logOf)
  t.ok(logs[0]!.length >= 40 + 40, `a full log (${logs[0]!.length} events)`)
  for (const [i, log] of logs.entries()) t.same(log, logs[0], `client ${i} saw the same sequence`)
  for (const c of clients) {
    const seqs = c.frames.filter((f) => f.data.room === 'harbour' && typeof f.data.seq === 'number' && f.event !== 'ack').map((f) => f.data.seq as number)
    t.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!), 'delivered in seq order')
  }
  const stats = await clients[0]!.request('get_stats')
  t.equal(stats.funnels, 3, 'stats hear every funnel')
  t.ok((stats.sockets as number) >= 4 && (stats.users as number) >= 4)
})

t.test('a resume older than what the log keeps is an explicit resume_gap, never a silent hole', async (t) => {
  // The log starts at seq 1 here, so ask a fresh stream: purge it below a point and ask from before it.
  const { jetstreamManager } = await import('@nats-io/jetstream')
  const { connect } = await import('@nats-io/transport-node')
  const nc = await connect({ servers: n.url })
  t.teardown(() => nc.close())
  const jsm = await jetstreamManager(nc)
  const { state } = await jsm.streams.info('SKEIN_THREADS')
  await jsm.streams.purge('SKEIN_THREADS', { keep: 5 })
  const c = await WsClient.connect(f1.url, token('late'))
  t.teardown(() => c.close())
  const err = await c.request('join_room', { room: 'main', afterSeq: 3 }).catch((e: Record<string, unknown>) => e)
  t.match(err, { code: 'resume_gap', oldestSeq: state.last_seq - 4 }, 'names the oldest seq still kept')
  t.match(await c.request('join_room', { room: 'main', afterSeq: state.last_seq - 5 }), { room: 'main' }, 'from there on it resumes')
  t.match(await c.request('join_room', { room: 'main', afterSeq: 0 }).catch((e: Record<string, unknown>) => e), { code: 'resume_gap', oldestSeq: state.last_seq - 4 }, 'asking for everything (afterSeq 0) is a gap too')
  t.match(await c.request('join_room', { room: 'harbour', afterSeq: 0 }).catch((e: Record<string, unknown>) => e), { code: 'resume_gap' }, 'and so in a room whose first events are gone')

  // A room that began after the cut has lost nothing: everything from its start, however low afterSeq is.
  await c.request('create_room', { room: 'new-cove' })
  await c.request('join_room', { room: 'new-cove' })
  const posted = await c.request('message', { room: 'new-cove', text: 'first light' })
  const d = await WsClient.connect(f2.url, token('later'))
  t.teardown(() => d.close())
  t.match(await d.request('join_room', { room: 'new-cove', afterSeq: 0 }), { room: 'new-cove' }, 'no gap')
  t.ok(d.of('new_message').some((m) => m.seq === posted.seq && m.text === 'first light'), 'its whole history is replayed')
})
