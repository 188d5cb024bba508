import t from 'tap'
import { WebSocket } from 'ws'
import { build, nats, threadsEngine, token } from './helper.js'
import { WsClient, type Frame } from '@skein/stack'

// One NATS, one threads engine (openai-service + simulator) and one funnel for the protocol tests below.
const n = await nats(t)
const engine = await threadsEngine(t, n.url, { SIM_TOKENS_PER_SECOND: '400' })
const { url } = await build(t, { NATS_URL: n.url, OPENAI_SERVICE_URL: engine.url, CHROMA_SERVICE_URL: 'http://127.0.0.1:9', WS_RATE_PER_S: '200', WS_RATE_BURST: '400' })

async function connect (t: Tap.Test, user: string): Promise<WsClient> {
  const c = await WsClient.connect(url, token(user))
  t.teardown(() => c.close())
  return c
}

const members = (c: WsClient, room: string): string[] | undefined =>
  (c.of('presence').filter((p) => p.room === room).pop()?.members as string[] | undefined)

t.test('messages, typing and presence between three clients in one room; the sender is left out where it should be', async (t) => {
  const [alice, bob, carol] = await Promise.all([connect(t, 'alice'), connect(t, 'bob'), connect(t, 'carol')])
  t.match(alice.frames[0], { event: 'status', data: { user: 'alice', sessionId: String } }, 'the connect status names the user')

  const created = await alice.request('create_room', { room: 'garden' })
  t.match(created, { room: 'garden', created: true, thread: { kind: 'conversation', owner: 'alice' } })
  for (const c of [alice, bob, carol]) {
    const joined = await c.request('join_room', { room: 'garden' })
    t.equal(joined.room, 'garden')
  }
  const joinedFrame = carol.of('room_joined')[0]!
  t.same(joinedFrame.members, ['alice', 'bob', 'carol'], 'room_joined lists everyone in the room')
  t.match(joinedFrame, { lastSeq: Number, thread: { kind: 'conversation', status: 'open', private: false } })
  await alice.until(() => members(alice, 'garden')?.length === 3)
  t.same(members(alice, 'garden'), ['alice', 'bob', 'carol'], 'presence tells the first member who came')

  const ack = await alice.request('message', { room: 'garden', text: 'the roses are out' })
  t.match(ack, { room: 'garden', seq: Number, id: String })
  for (const c of [bob, carol]) {
    const m = await c.next((f) => f.event === 'new_message')
    t.same(m.data, { room: 'garden', seq: ack.seq, id: ack.id, user: 'alice', text: 'the roses are out', ts: m.data.ts, clientId: m.data.clientId }, 'every other member gets the message with its seq')
  }
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.equal(alice.of('new_message').length, 0, 'the sender gets the ack, not an echo')

  bob.send('typing', { room: 'garden', typing: true })
  for (const c of [alice, carol]) t.same((await c.next((f) => f.event === 'user_typing')).data, { room: 'garden', user: 'bob', typing: true })
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.equal(bob.of('user_typing').length, 0, 'the typist does not see their own typing')
  t.notOk('seq' in (alice.of('user_typing')[0] ?? {}), 'typing is volatile: no seq')

  await carol.request('leave_room', { room: 'garden' })
  t.ok(carol.of('room_left').some((r) => r.room === 'garden'))
  await alice.until(() => members(alice, 'garden')?.length === 2)
  await bob.until(() => members(bob, 'garden')?.length === 2)
  t.same([members(alice, 'garden'), members(bob, 'garden')], [['alice', 'bob'], ['alice', 'bob']], 'presence follows a member leaving')
  t.equal(alice.of('presence').filter((p) => p.room === 'garden').pop()?.memberCount, 2)
  await bob.close()
  await alice.until(() => members(alice, 'garden')?.length === 1)
  t.same(members(alice, 'garden'), ['alice'], 'and a member disconnecting')
  await t.rejects(carol.request('message', { room: 'garden', text: 'hi' }), { code: 'FUNNEL_NOT_IN_ROOM' }, 'only members post')
})

t.test('presence in a big room: one frame per beat, not one per join; the list is capped, the count is not', async (t) => {
  const first = await connect(t, 'crowd-000')
  await first.request('create_room', { room: 'stadium' })
  await first.request('join_room', { room: 'stadium' })
  const crowd = await Promise.all(Array.from({ length: 119 }, async (_x, i) => {
    const c = await connect(t, `crowd-${String(i + 1).padStart(3, '0')}`)
    await c.request('join_room', { room: 'stadium' })
    return c
  }))
  await first.until(() => first.of('presence').pop()?.memberCount === 120, 10_000)
  const frames = first.of('presence')
  t.ok(frames.length < 20, `the first member got ${frames.length} presence frames for 119 joins`)
  const last = frames.pop()!
  t.equal((last.members as string[]).length, 100, 'at most 100 listed')
  t.equal((last.members as string[])[0], 'crowd-000', 'sorted')
  t.equal(crowd[118]!.of('room_joined')[0]?.memberCount, 120, 'the last to join is told the whole count')
})

t.test('llm_request: every member sees the tokens, then one llm_complete whose text is the tokens joined', async (t) => {
  const [alice, bob] = await Promise.all([connect(t, 'alice'), connect(t, 'bob')])
  await alice.request('create_room', { room: 'study', model: 'skein-sim-mini' })
  await alice.request('join_room', { room: 'study' })
  await bob.request('join_room', { room: 'study' })
  const ack = await alice.request('llm_request', { room: 'study', message: 'Explain how tides follow the moon in 60 words' })
  t.match(ack, { room: 'study', seq: Number, id: String, messageId: `reply-${String(ack.id)}` })
  for (const c of [alice, bob]) {
    const done = (await c.next((f) => f.event === 'llm_complete' && f.data.messageId === ack.messageId)).data
    const tokens = c.of('llm_token').filter((x) => x.messageId === ack.messageId)
    t.equal(tokens.length, 60, 'every token arrives')
    t.equal(tokens.map((x) => x.token).join(''), done.text, 'llm_complete carries exactly the tokens joined')
    t.same(tokens.map((x) => x.index), tokens.map((_x, i) => i), 'in order')
    const seqs = [...tokens.map((x) => x.seq as number), done.seq as number]
    t.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!), 'seq strictly increases')
    t.equal(c.of('llm_complete').filter((x) => x.messageId === ack.messageId).length, 1, 'one completion')
    t.match(done, { model: 'skein-sim-mini', finishReason: 'stop', usage: { promptTokens: Number, completionTokens: 60 } })
  }
  t.equal(bob.of('new_message').filter((m) => m.id === ack.id).length, 1, 'the question reaches the others as a message')
  const asked = alice.frames.find((f) => f.event === 'ack' && f.data.messageId === ack.messageId)
  t.equal(bob.of('new_message').find((m) => m.id === ack.id)?.clientId, asked?.id, 'carrying the id the asker gave its frame')
  t.equal(alice.of('new_message').filter((m) => m.id === ack.id).length, 0, 'not the asker')
})

t.test('cancel stops an answer under way in a conversation; the room stays open', async (t) => {
  const alice = await connect(t, 'alice')
  await alice.request('create_room', { room: 'long-talk' })
  await alice.request('join_room', { room: 'long-talk' })
  const ack = await alice.request('llm_request', { room: 'long-talk', message: 'Tell me about rivers in 2000 words' })
  await alice.until((fs) => fs.filter((f) => f.event === 'llm_token').length >= 20)
  t.same(await alice.request('cancel', { thread: 'long-talk' }), { cancelled: [], stopped: true })
  const done = (await alice.next((f) => f.event === 'llm_complete' && f.data.messageId === ack.messageId)).data
  t.equal(done.finishReason, 'stopped', 'the answer ends, marked stopped')
  const tokens = alice.of('llm_token').filter((x) => x.messageId === ack.messageId)
  t.ok(tokens.length < 2000, `it stopped early (${tokens.length} tokens)`)
  t.equal(tokens.map((x) => x.token).join(''), done.text, 'with the text it had')
  t.match(await alice.request('message', { room: 'long-talk', text: 'still here' }), { seq: Number }, 'the room still takes messages')
})

t.test('create_task: the task thread and its steps show up in the main room as they happen', async (t) => {
  const alice = await connect(t, 'alice')
  await alice.request('join_room', { room: 'main' })
  const ack = await alice.request('create_task', { task: '1. Research owls\n2. Research hawks\n3. Compare the results' })
  t.match(ack, { thread: /^t-/, status: 'planning' })
  await alice.until((fs) => fs.some((f) => f.event === 'thread_closed' && f.data.thread === ack.thread), 60_000)
  const created = alice.of('thread_created').map((x) => x.thread as { id: string, kind: string, parent: string })
  t.ok(created.some((c) => c.id === ack.thread && c.kind === 'task'), 'the task')
  t.equal(created.filter((c) => c.parent === ack.thread && c.kind === 'step').length, 3, 'its three steps')
  const updates = alice.of('thread_updated').filter((u) => u.thread === ack.thread).map((u) => u.status)
  t.same(updates.slice(-1), ['completed'], 'ends completed')
  t.ok(alice.of('new_message').some((m) => m.role === 'report' && m.from === ack.thread), 'its report reaches the main room')
  const seqs = alice.frames.filter((f) => typeof f.data.seq === 'number').map((f) => f.data.seq as number)
  t.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!), 'the main room\'s seq strictly increases')
})

t.test('private rooms: only their members may join; their threads stay out of the main room', async (t) => {
  const [alice, bob, mallory] = await Promise.all([connect(t, 'alice'), connect(t, 'bob'), connect(t, 'mallory')])
  await mallory.request('join_room', { room: 'main' })
  await alice.request('create_room', { room: 'secret-garden', private: true, members: ['bob'] })
  await alice.request('join_room', { room: 'secret-garden' })
  await bob.request('join_room', { room: 'secret-garden' })
  await t.rejects(mallory.request('join_room', { room: 'secret-garden' }), { code: 'FUNNEL_ROOM_NOT_FOUND' }, 'a non-member is told it does not exist')
  await t.rejects(mallory.request('llm_request', { room: 'secret-garden', message: 'hi' }), { code: 'FUNNEL_NOT_IN_ROOM' })
  await t.rejects(mallory.request('cancel', { thread: 'secret-garden' }), { code: 'FUNNEL_ROOM_NOT_FOUND' })
  const task = await alice.request('create_task', { task: 'Plan a secret picnic', room: 'secret-garden' })
  await alice.until((fs) => fs.some((f) => f.event === 'new_message' && f.data.from === task.thread), 60_000)
  t.ok(alice.of('new_message').some((m) => m.room === 'secret-garden' && m.role === 'report'), 'the task reports to its private room')
  await alice.until((fs) => fs.some((f) => f.event === 'thread_closed' && f.data.thread === task.thread && f.data.room === 'secret-garden'), 30_000)
  t.ok(alice.of('thread_created').some((c) => c.room === 'secret-garden' && (c.thread as { id: string }).id === task.thread), 'the private room follows its task live, as main does for the others')
  await new Promise((resolve) => setTimeout(resolve, 300))
  const seen = mallory.frames.filter((f) => f.event !== 'error' && f.event !== 'ack').map((f) => JSON.stringify(f))
  t.ok(seen.length > 1, 'mallory follows the main room')
  t.notOk(seen.some((f) => f.includes(String(task.thread)) || f.includes('secret')), 'nothing of the private room or its task reaches the main room')
})

t.test('bad frames get an error naming the problem; the connection stays open', async (t) => {
  const c = await connect(t, 'alice')
  const errorAfter = async (send: () => void): Promise<Record<string, unknown>> => {
    const from = c.frames.length
    send()
    return (await c.next((f) => f.event === 'error', 5_000, from)).data
  }
  t.match(await errorAfter(() => c.socket.send('not json')), { code: 'FUNNEL_BAD_FRAME', message: /JSON/ })
  t.match(await errorAfter(() => c.socket.send('[1,2]')), { code: 'FUNNEL_BAD_FRAME', message: /object/ })
  t.match(await errorAfter(() => c.socket.send(Buffer.from([1, 2, 3]), { binary: true })), { code: 'FUNNEL_BAD_FRAME', message: /binary/ })
  t.match(await errorAfter(() => c.send('shout', {})), { code: 'FUNNEL_UNKNOWN_EVENT', message: /"shout"/ })
  t.match(await errorAfter(() => c.send('join_room', {})), { code: 'FUNNEL_VALIDATION', message: /room/ })
  t.match(await errorAfter(() => c.send('join_room', { room: 'a.b' })), { code: 'FUNNEL_VALIDATION', message: /data\/room/ }, 'a subject token cannot be smuggled in')
  t.match(await errorAfter(() => c.send('join_room', { room: '>' })), { code: 'FUNNEL_VALIDATION' })
  t.match(await errorAfter(() => c.send('message', { room: 'main', text: 'x', extra: 1 })), { code: 'FUNNEL_VALIDATION', message: /extra|additional/ })
  t.match(await errorAfter(() => c.socket.send('{"event":"message","data":{"room":"main","text":"x","__proto__":{"admin":true}}}')), { code: 'FUNNEL_BAD_FRAME', message: /__proto__/ })
  t.match(await errorAfter(() => c.socket.send('{"event":"typing","data":{"room":"main","typing":true},"constructor":{"prototype":{}}}')), { code: 'FUNNEL_BAD_FRAME', message: /constructor/ })
  await t.rejects(c.request('join_room', { room: 'no-such-room' }), { code: 'FUNNEL_ROOM_NOT_FOUND' })
  await t.rejects(c.request('llm_request', { room: 'main', message: 'hi', model: 'gpt-nothing' }), { code: 'FUNNEL_NOT_IN_ROOM' })
  await c.request('join_room', { room: 'main' })
  await t.rejects(c.request('llm_request', { room: 'main', message: 'hi', model: 'gpt-nothing' }), { code: 'OPENAI_UNKNOWN_MODEL', message: /skein-sim-1/ }, 'an unknown model is refused up front, naming the known ones')
  t.equal(c.closed, null, 'still connected')
  t.match(await c.request('message', { room: 'main', text: 'still here' }), { seq: Number })
})

t.test('ping: a round trip a browser can make to prove the connection is alive', async (t) => {
  const c = await connect(t, 'pinger')
  const pong = await c.request('ping')
  t.ok(Date.parse(String(pong.ts)) > Date.now() - 10_000, 'answered with the server time')
})

t.test('get_stats and /health count users, sockets, rooms and generations', async (t) => {
  const [a, b] = await Promise.all([connect(t, 'stats-a'), connect(t, 'stats-b')])
  await a.request('join_room', { room: 'main' })
  const stats = await b.request('get_stats')
  t.match(stats, { users: Number, sockets: Number, rooms: Number, funnels: 1, generations: {} })
  t.ok((stats.users as number) >= 2 && (stats.sockets as number) >= 2 && (stats.rooms as number) >= 1)
  b.send('get_stats')
  t.match((await b.next((f) => f.event === 'stats')).data, { funnels: 1 }, 'without an id the answer is a stats event')
  const health = await (await fetch(`${url}/health`)).json() as { realtime: Record<string, number> }
  t.match(health.realtime, { funnels: 1, sockets: Number })

  // While an answer streams, its model counts one generation under way, in get_stats and in /health alike.
  await a.request('create_room', { room: 'stats-room', model: 'skein-sim-mini' })
  await a.request('join_room', { room: 'stats-room' })
  const asked = await a.request('llm_request', { room: 'stats-room', message: 'Describe the tides in 600 words' })
  await a.next((f) => f.event === 'llm_token' && f.data.messageId === asked.messageId)
  t.match((await b.request('get_stats')).generations, { 'skein-sim-mini': 1 }, 'an answer under way, by its model')
  const during = await (await fetch(`${url}/health`)).json() as { realtime: { generations: Record<string, number> } }
  t.match(during.realtime.generations, { 'skein-sim-mini': 1 }, 'and in /health')
  await a.next((f) => f.event === 'llm_complete' && f.data.messageId === asked.messageId, 60_000)
  const under = async (): Promise<Record<string, number>> => (await b.request('get_stats')).generations as Record<string, number>
  for (let i = 0; i < 50 && 'skein-sim-mini' in await under(); i++) await new Promise((resolve) => setTimeout(resolve, 100))
  t.notOk('skein-sim-mini' in await under(), 'none once it completed')
})

t.test('the handshake: no 101 without a valid token or from a foreign origin', async (t) => {
  const refused = async (query: string, headers: Record<string, string> = {}): Promise<number> => await new Promise((resolve) => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/ws${query}`, { headers })
    ws.on('unexpected-response', (_req, res) => { resolve(res.statusCode ?? 0); ws.terminate() })
    ws.on('open', () => { resolve(101); ws.terminate() })
    ws.on('error', () => resolve(-1))
  })
  const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url') + '.' + Buffer.from(JSON.stringify({ sub: 'alice', exp: Math.floor(Date.now() / 1000) + 600 })).toString('base64url') + '.'
  t.equal(await refused(''), 401, 'no token')
  t.equal(await refused('?token=garbage'), 401, 'not a JWT')
  t.equal(await refused(`?token=${none}`), 401, 'alg none')
  t.equal(await refused(`?token=${token('alice', -10)}`), 401, 'expired')
  t.equal(await refused(`?token=${token('alice').slice(0, -3)}abc`), 401, 'a bad signature')
  t.equal(await refused(`?token=${token('alice')}`, { origin: 'https://evil.example' }), 403, 'a foreign origin')
  t.equal(await refused(`?token=${token('alice')}`, { origin: 'http://localhost:3000' }), 101, 'the web app\'s origin')
  t.equal(await refused('', { authorization: `Bearer ${token('alice')}` }), 101, 'a Bearer header works too')
})

t.test('an oversized frame closes that socket (1009); the funnel keeps serving the others', async (t) => {
  const [big, other] = await Promise.all([connect(t, 'alice'), connect(t, 'bob')])
  await other.request('join_room', { room: 'main' })
  big.send('message', { room: 'main', text: 'x'.repeat(70_000) })
  await big.until(() => big.closed !== null)
  t.equal(big.closed?.code, 1009, 'closed as too big')
  t.match(await other.request('message', { room: 'main', text: 'unbothered' }), { seq: Number }, 'the others carry on')
})

t.test('a token that expires while connected closes the socket with 4001', async (t) => {
  const c = await WsClient.connect(url, token('alice', 2))
  await c.until(() => c.closed !== null, 10_000)
  t.equal(c.closed?.code, 4001)
  t.match(c.closed?.reason, /token expired/)
})

t.test('a flood of frames is refused past the rate, then the socket is closed (4029)', async (t) => {
  const c = await connect(t, 'flooder')
  for (let i = 0; i < 3000 && !c.closed; i++) c.send('typing', { room: 'main', typing: true })
  await c.until(() => c.closed !== null, 10_000)
  const told = c.of('error').filter((e) => e.code === 'FUNNEL_RATE_LIMITED')
  t.ok(told.length >= 1, 'told first')
  t.ok(told.length <= 11, `told once a second at most, not once per frame (${told.length})`)
  t.equal(c.closed?.code, 4029, 'then closed')
})

t.test('a request over the rate is answered with its id (refused, not done), so its sender never waits in vain', async (t) => {
  const c = await connect(t, 'eager')
  const ids = Array.from({ length: 500 }, (_v, i) => `p${i}`)
  for (const id of ids) c.send('ping', {}, id)
  const answered = (frames: Frame[]): Map<string, Frame> => new Map(frames.filter((f) => f.id !== undefined && (f.event === 'ack' || f.event === 'error')).map((f) => [f.id!, f]))
  await c.until((frames) => answered(frames).size === ids.length, 10_000).catch(() => {})
  const answers = answered(c.frames)
  t.equal(answers.size, ids.length, 'every request is answered')
  const refused = [...answers.values()].filter((f) => f.event === 'error')
  t.ok(refused.length > 0, `some were over the rate (${refused.length})`)
  t.ok(refused.every((f) => f.data.code === 'FUNNEL_RATE_LIMITED'), 'refused for the rate, saying so')
  t.match(refused[0]?.data.message, /not done: send this one again later/)
  t.equal(c.closed, null, 'the socket stays open')
})

export type { Frame }
