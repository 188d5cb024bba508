import t from 'tap'
import { WebSocket } from 'ws'
import {
  AuthenticationError,
  BadRequestError,
  ConflictError,
  ConnectionLostError,
  NotFoundError,
  RealtimeError,
  SkeinClient,
  decodeFrame,
  type ConnectionState,
  type EventData,
  type WebSocketConstructor
} from '../src/index.js'
import { cuttableProxy, signToken, signedIn, stack, stopOpenAIService, until } from './helper.js'

// One real stack (NATS, Chroma, the simulator at 100 tokens/s, openai-service, chroma-service, funnel) for the
// SDK's tests; the network is cut for real by a TCP proxy between a client and the funnel.
const running = await stack(t)
const funnel = running.funnelUrl

type Token = EventData<'llm_token'>
type Complete = EventData<'llm_complete'>

t.test('realtime: a stream cut by a lost network ends complete and once, after rejoining with afterSeq', async (t) => {
  const proxy = await cuttableProxy(t, funnel)
  const asker = await signedIn(t, funnel, 'asker')
  const listener = await signedIn(t, proxy.url, 'listener')
  const states: ConnectionState[] = []
  listener.realtime.onState((s) => states.push(s))
  asker.realtime.connect()
  listener.realtime.connect()
  await asker.realtime.request('create_room', { room: 'sdk-tides' })
  await asker.realtime.join('sdk-tides')
  await listener.realtime.join('sdk-tides')
  t.equal(listener.realtime.state, 'connected')

  const tokens: Token[] = []
  const completes: Complete[] = []
  listener.realtime.on('llm_token', (d) => tokens.push(d))
  listener.realtime.on('llm_complete', (d) => completes.push(d))
  let askerText = ''
  asker.realtime.on('llm_complete', (d) => { askerText = d.text })
  const ack = await asker.realtime.request('llm_request', { room: 'sdk-tides', message: 'Tell me about tides and the moon in 300 words' })
  t.match(ack, { room: 'sdk-tides', seq: Number, id: String, messageId: String })

  await until(() => tokens.length >= 40, '40 tokens')
  const beforeCut = tokens.length
  await proxy.cutFor(1_000)
  t.ok(proxy.refused >= 1, `the client tried again during the cut and was refused (${proxy.refused}x)`)
  await until(() => completes.length > 0, 'the completion', 60_000)
  await until(() => askerText !== '', 'the asker\'s completion')

  const mine = tokens.filter((x) => x.messageId === ack.messageId)
  t.ok(beforeCut < mine.length, `tokens came before the cut (${beforeCut}) and after it (${mine.length - beforeCut})`)
  t.equal(completes.length, 1, 'one completion')
  t.equal(completes[0]!.text, askerText, 'the same answer the asker got')
  t.equal(completes[0]!.text.split(/\s+/).length, 300, '300 words')
  t.equal(mine.map((x) => x.token).join(''), completes[0]!.text, 'the tokens make exactly the whole text: nothing missing, nothing twice')
  t.same(mine.map((x) => x.index), mine.map((_x, i) => i), 'every index once, in order')
  const seqs = [...mine.map((x) => x.seq), completes[0]!.seq]
  t.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!), 'seq strictly increases')
  t.ok(listener.realtime.connections >= 2, 'it reconnected by itself')
  t.match(states.join(' '), /connected.*(reconnecting|offline).*connected$/, `connected, then reconnecting, then connected again (${states.join(' → ')})`)
  t.ok(listener.realtime.positions()['sdk-tides']! >= completes[0]!.seq, 'its position in the room is the last event it delivered')
})

t.test('realtime: a replay overlapping what was delivered is dropped; a message comes back with its client id', async (t) => {
  const [alice, bob] = await Promise.all([signedIn(t, funnel, 'alice'), signedIn(t, funnel, 'bob')])
  alice.realtime.connect()
  bob.realtime.connect()
  await alice.realtime.request('create_room', { room: 'sdk-garden' })
  await alice.realtime.join('sdk-garden')
  await bob.realtime.join('sdk-garden')
  const bobSaw: Array<EventData<'new_message'>> = []
  const aliceSaw: Array<EventData<'new_message'>> = []
  bob.realtime.on('new_message', (m) => bobSaw.push(m))
  alice.realtime.on('new_message', (m) => aliceSaw.push(m))

  const sent = []
  for (const text of ['roses', 'tulips', 'daisies']) sent.push(await alice.realtime.send('sdk-garden', text))
  await until(() => bobSaw.length === 3, 'three messages')
  t.same(bobSaw.map((m) => [m.text, m.id, m.clientId]), sent.map((s, i) => [['roses', 'tulips', 'daisies'][i], s.id, s.clientId]), 'each carries the id the server gave it and the client id the sender gave it')
  t.equal(aliceSaw.length, 0, 'the sender gets acks, not echoes')

  // Ask the server to replay the whole room: bob has all of it already, so nothing is delivered twice.
  const dropped = bob.realtime.duplicatesDropped
  await bob.realtime.join('sdk-garden', { afterSeq: 0 })
  await alice.realtime.send('sdk-garden', 'lilies')
  await until(() => bobSaw.length === 4, 'the fourth message')
  t.ok(bob.realtime.duplicatesDropped >= dropped + 3, `the replayed events were dropped (${bob.realtime.duplicatesDropped - dropped})`)
  t.same(bobSaw.map((m) => m.text), ['roses', 'tulips', 'daisies', 'lilies'], 'each message once, in order')

  // Alice never got her own messages live; a replay gives them to her, recognisable by their client id.
  await alice.realtime.join('sdk-garden', { afterSeq: 0 })
  await until(() => aliceSaw.length >= 4, 'alice\'s replay')
  t.same(aliceSaw.slice(0, 3).map((m) => m.clientId), sent.map((s) => s.clientId), 'her own messages, by their client ids')
})

t.test('realtime: a token that expires while connected is renewed, and the rooms are rejoined', async (t) => {
  let renewals = 0
  const token = ({ refresh }: { refresh: boolean }): string => {
    if (refresh) renewals++
    return signToken(running.jwtSecret, 'shortlived', refresh ? 600 : 2)
  }
  const client = new SkeinClient({ baseURL: funnel, token, WebSocket: (await import('ws')).WebSocket as never })
  t.teardown(() => client.realtime.close())
  const other = await signedIn(t, funnel, 'other')
  client.realtime.connect()
  other.realtime.connect()
  await client.realtime.join('main')
  await other.realtime.join('main')
  const firstSession = client.realtime.session?.sessionId
  await until(() => client.realtime.connections === 2 && client.realtime.state === 'connected', 'the reconnection', 15_000)
  t.equal(renewals, 1, 'the token was asked for again, as a refresh')
  t.not(client.realtime.session?.sessionId, firstSession, 'a new session')
  const got: string[] = []
  client.realtime.on('new_message', (m) => got.push(m.text))
  await other.realtime.send('main', 'still there?')
  await until(() => got.includes('still there?'), 'the message in main')
  t.pass('the room was rejoined without being asked')
})

t.test('realtime: refusals are RealtimeErrors with the server\'s code; no request goes out before connect()', async (t) => {
  const client = await signedIn(t, funnel, 'carol')
  await t.rejects(client.realtime.request('get_stats', {}), ConnectionLostError, 'not connected yet')
  client.realtime.connect()
  await t.rejects(client.realtime.join('no-such-room'), { name: 'RealtimeError', code: 'FUNNEL_ROOM_NOT_FOUND' })
  t.notOk(client.realtime.rooms().includes('no-such-room'), 'a refused room is not rejoined later')
  const err = await client.realtime.request('message', { room: 'main', text: 'hi' }).catch((e: unknown) => e)
  t.ok(err instanceof RealtimeError && err.code === 'FUNNEL_NOT_IN_ROOM', 'posting before joining')
  const stats = await client.realtime.request('get_stats', {})
  t.ok(stats.users >= 1 && stats.funnels === 1, 'get_stats answers with the counts')
  const task = await client.realtime.request('create_task', { task: 'Explain how kites fly' })
  t.match(task, { thread: /^t-/, status: 'planning' })
  t.match(await client.realtime.request('cancel', { thread: task.thread }), { cancelled: Array })
})

t.test('realtime: a room refused for good on rejoin is dropped, and the app hears of it as an error event naming the room', async (t) => {
  // A page reloaded with a room that is not there (any more): the resync's join is refused, and no join() waits.
  const client = await signedIn(t, funnel, 'erin', { resume: { 'sdk-nowhere': 4 } })
  const errors: Array<EventData<'error'>> = []
  client.realtime.on('error', (e) => errors.push(e))
  client.realtime.connect()
  await until(() => errors.length > 0, 'the refusal as an error event', 10_000)
  t.match(errors, [{ code: 'FUNNEL_ROOM_NOT_FOUND', message: String, room: 'sdk-nowhere' }], 'one error event, with the code and the room')
  t.same(client.realtime.rooms(), [], 'the room is no longer followed')
  await until(() => client.realtime.state === 'connected', 'connected')
  t.same(client.realtime.positions(), {}, 'nor resumed after a reload')
})

t.test('http: resources answer typed bodies; errors are one class per status with the code and request id', async (t) => {
  const client = await signedIn(t, funnel, 'dora')
  const main = await client.threads.main()
  t.match(main, { id: 'main', kind: 'main', status: 'open' })
  t.match(await client.threads.tree('main'), { id: 'main', children: Array })
  // Pages of a thread's messages, bounded by `before` (answers may still be arriving after it).
  const { token } = await new SkeinClient({ baseURL: funnel }).auth.token('dora')
  const posted = await fetch(`${funnel}/threads/main/messages`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ text: 'a line to page through' }) })
  const { seq } = await posted.json() as { seq: number }
  const upTo = (await client.threads.messages('main')).filter((m) => m.seq <= seq)
  t.equal(upTo.at(-1)?.text, 'a line to page through')
  t.same(await client.threads.messagePage('main', { limit: 1, before: seq + 1 }), { messages: upTo.slice(-1), more: upTo.length > 1 }, 'the newest message before a seq, and whether more remain')
  t.same(await client.threads.messagePage('main', { limit: upTo.length, before: seq + 1 }), { messages: upTo, more: false }, 'a page as long as the thread: all of it')

  const anonymous = new SkeinClient({ baseURL: funnel, maxRetries: 0 })
  const unauth = await anonymous.threads.main().catch((e: unknown) => e)
  t.ok(unauth instanceof AuthenticationError, 'no token: AuthenticationError')
  t.match(unauth, { status: 401, code: String, requestId: String })
  await t.rejects(client.threads.get('no-such-thread'), NotFoundError)
  await t.rejects(client.collections.create({ name: '-bad-' }), BadRequestError)

  const image = await client.media.image({ prompt: 'A kite over green hills', size: '256x256' })
  t.match(image, { kind: 'image', mime: 'image/png', url: /^\/media\// })
  const png = await fetch(await client.media.url(image))
  t.equal(png.headers.get('content-type'), 'image/png', 'the media URL works without a header (for <img>)')
  const speech = await client.media.speech({ text: 'Hello from the client' })
  t.match(speech, { kind: 'audio', mime: 'audio/wav' })

  const name = `notes-${Date.now()}`
  t.match(await client.collections.create({ name }), { name, owner: 'dora' })
  const again = await client.collections.create({ name }).catch((e: unknown) => e)
  t.ok(again instanceof ConflictError, 'a second one of the same name: ConflictError')
  t.match(again, { code: 'MEMORY_COLLECTION_EXISTS', status: 409 })
  t.match(await client.collections.addDocuments(name, [{ text: 'Puffins nest in burrows.' }, { text: 'Gannets dive from thirty metres.' }]), { upserted: 2 })
  t.ok((await client.collections.list()).some((c) => c.name === name), 'listed')

  client.realtime.connect()
  await client.realtime.join('main')
  await client.realtime.send('main', 'Zeppelins drift over quiet marmalade orchards')
  let hits: Array<{ text: string }> = []
  for (let i = 0; i < 100 && !hits.some((h) => h.text.includes('marmalade')); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    hits = (await client.memory.search({ q: 'zeppelins marmalade orchards', scope: 'main', k: 3 })).results
  }
  t.ok(hits.some((h) => h.text.includes('marmalade')), 'memory search finds what was said in the main room')
})

t.test('http: a collection end to end: get, query, a document by id, deletes; a missing one is a NotFoundError', async (t) => {
  const client = await signedIn(t, funnel, 'fern')
  const name = `birds-${Date.now()}`
  await client.collections.create({ name, metadata: { topic: 'birds' } })
  // An id with characters a path must carry encoded.
  const gannet = 'gannet:2024.1'
  t.match(await client.collections.addDocuments(name, [
    { id: 'puffin', text: 'Puffins nest in burrows on grassy cliff tops.', metadata: { kind: 'seabird' } },
    { id: gannet, text: 'Gannets dive into the sea from thirty metres.', metadata: { kind: 'seabird' } },
    { id: 'robin', text: 'Robins sing in gardens all through the winter.', metadata: { kind: 'garden' } }
  ]), { ids: ['puffin', gannet, 'robin'], upserted: 3 })
  t.match(await client.collections.get(name), { name, owner: 'fern', shared: false, metadata: { topic: 'birds' }, count: 3 })

  const { results } = await client.collections.query(name, { text: 'where do puffins nest? in burrows', k: 2 })
  t.equal(results.length, 2, 'k results')
  t.match(results[0], { id: 'puffin', text: /burrows/, score: Number, metadata: { kind: 'seabird' } }, 'the closest first')
  t.same((await client.collections.query(name, { text: 'birds', where: { kind: 'garden' } })).results.map((r) => r.id), ['robin'], 'filtered by metadata')

  t.same(await client.collections.getDocument(name, gannet), { id: gannet, text: 'Gannets dive into the sea from thirty metres.', metadata: { kind: 'seabird' } })
  t.equal(await client.collections.deleteDocument(name, gannet), undefined, 'deleted (204)')
  await t.rejects(client.collections.getDocument(name, gannet), { name: 'NotFoundError', code: 'MEMORY_DOCUMENT_NOT_FOUND', status: 404 })
  t.match(await client.collections.get(name), { count: 2 })

  t.equal(await client.collections.delete(name), undefined, 'the collection deleted (204)')
  const gone = await client.collections.get(name).catch((e: unknown) => e)
  t.ok(gone instanceof NotFoundError, 'a missing collection: NotFoundError')
  t.match(gone, { code: 'MEMORY_COLLECTION_NOT_FOUND', status: 404, requestId: String })
  await t.rejects(client.collections.query('no-such-collection', { text: 'anything' }), NotFoundError)
  t.notOk((await client.collections.list()).some((c) => c.name === name), 'no longer listed')
})

// Last: it stops the stack's openai-service and starts another in its place.
t.test('realtime: a room the funnel cannot rejoin for now (openai-service down) is joined again once it is back, nothing lost', async (t) => {
  const proxy = await cuttableProxy(t, funnel)
  // The ws package's WebSocket, noting the funnel's refusals as they arrive (the client deals with them itself).
  const refusals: string[] = []
  class Watched extends WebSocket {
    constructor (url: string) {
      super(url)
      this.on('message', (raw: Buffer) => {
        const f = decodeFrame(raw.toString('utf8'))
        if (f?.event === 'error') refusals.push((f.data as EventData<'error'>).code)
      })
    }
  }
  const alba = await signedIn(t, funnel, 'alba')
  const bruno = await signedIn(t, proxy.url, 'bruno', { WebSocket: Watched as unknown as WebSocketConstructor })
  const seen: string[] = []
  const errors: Array<EventData<'error'>> = []
  bruno.realtime.on('new_message', (m) => seen.push(m.text))
  bruno.realtime.on('error', (e) => errors.push(e))
  alba.realtime.connect()
  bruno.realtime.connect()
  await alba.realtime.request('create_room', { room: 'sdk-harbour' })
  await alba.realtime.join('sdk-harbour')
  await bruno.realtime.join('sdk-harbour')
  await alba.realtime.send('sdk-harbour', 'before the outage')
  await until(() => seen.length === 1, 'the first message')

  // The threads engine goes away, and bruno's connection with it: his rejoin is refused for now.
  const startAgain = await stopOpenAIService(running)
  await proxy.cutFor(300)
  await until(() => refusals.includes('FUNNEL_THREADS_UNAVAILABLE'), 'the rejoin refused while openai-service is down')
  await until(() => bruno.realtime.state === 'connected', 'bruno connected again')
  t.ok(bruno.realtime.rooms().includes('sdk-harbour'), 'the room is still followed')
  await alba.realtime.send('sdk-harbour', 'during the outage')

  await startAgain()
  await alba.realtime.send('sdk-harbour', 'after the outage')
  await until(() => seen.length >= 3, 'the messages sent during and after the outage', 20_000)
  t.same(seen, ['before the outage', 'during the outage', 'after the outage'], 'each message once, in order: no gap')
  t.ok(refusals.filter((c) => c === 'FUNNEL_THREADS_UNAVAILABLE').length >= 1, `refused ${refusals.length}x before the engine was back`)
  t.same(errors, [], 'a refusal for now is not reported to the app')
  t.ok(bruno.realtime.rooms().includes('sdk-harbour'), 'and the room is followed still')
})
