import { test } from 'tap'
import type { ThreadMessage } from '@skein/schemas'
import { WsClient } from '@skein/stack'
import { authed, funnel, natsServer, openaiService, simulator, token } from './helper.js'
import { NatsTap } from './nats-tap.js'

// A timeout is not a refusal: a message whose ack was lost may be in the log. The funnel stores it again
// under the same msgID, and JetStream answers the copy with the first one's seq instead of storing it twice.
test('a message whose JetStream ack is lost on its way back is stored once, and its sender gets its seq', async (t) => {
  const nats = await natsServer(t)
  const sim = await simulator(t)
  const openai = await openaiService(t, nats.url, sim)
  const tap = await NatsTap.losingReply(nats.url, 'Nats-Msg-Id: message:')
  t.teardown(() => tap.close())
  const edge = await funnel(t, tap.url, openai.url)

  const alice = await WsClient.connect(edge.url, token('alice'))
  t.teardown(() => alice.close())
  await alice.request('create_room', { room: 'lost-ack' })
  await alice.request('join_room', { room: 'lost-ack' })
  const text = 'stored once, whatever became of its ack'
  const ack = await alice.request('message', { room: 'lost-ack', text })
  t.match(await tap.muted, /^H?MSG _INBOX\./, 'the ack of the first publish never reached the funnel')
  t.type(ack.seq, 'number', 'the sender got an ack with a seq all the same')

  const { messages } = await (await fetch(`${openai.url}/threads/lost-ack/messages`, { headers: authed('alice') })).json() as { messages: ThreadMessage[] }
  const copies = messages.filter((m) => m.text === text)
  t.equal(copies.length, 1, 'the message is in the log once')
  t.equal(copies[0]?.seq, ack.seq, 'at the seq its sender was told')
  t.equal(alice.closed, null, 'and the sender was never cut off')
})

const newMessages = (c: WsClient, text: string): Array<Record<string, unknown>> => c.frames.filter((f) => f.event === 'new_message' && f.data.text === text).map((f) => f.data)

async function logged (openai: string, room: string, text: string): Promise<ThreadMessage[]> {
  const { messages } = await (await fetch(`${openai}/threads/${room}/messages`, { headers: authed('alice') })).json() as { messages: ThreadMessage[] }
  return messages.filter((m) => m.text === text)
}

// No ack ever comes back, however often the funnel asks; but the room's own feed shows the message stored.
test('a message none of whose acks comes back is confirmed by the room\'s feed: its sender gets its seq, the others the message once', async (t) => {
  const nats = await natsServer(t)
  const sim = await simulator(t)
  const openai = await openaiService(t, nats.url, sim)
  const tap = await NatsTap.losingReplies(nats.url, 'Nats-Msg-Id: message:')
  t.teardown(() => tap.close())
  const edge = await funnel(t, tap.url, openai.url)

  const alice = await WsClient.connect(edge.url, token('alice'))
  const bob = await WsClient.connect(edge.url, token('bob'))
  t.teardown(() => { alice.close(); bob.close() })
  await alice.request('create_room', { room: 'no-acks' })
  await alice.request('join_room', { room: 'no-acks' })
  await bob.request('join_room', { room: 'no-acks' })
  const text = 'confirmed by the feed, though no ack came'
  const ack = await alice.request('message', { room: 'no-acks', text })
  t.type(ack.seq, 'number', 'the sender got an ack with a seq')
  t.ok(tap.dropped >= 1, `no JetStream ack reached the funnel (${tap.dropped} dropped)`)

  await bob.until((fs) => fs.some((f) => f.event === 'new_message' && f.data.text === text), 10_000)
  const copies = await logged(openai.url, 'no-acks', text)
  t.same(copies.map((m) => m.seq), [ack.seq], 'the message is in the log once, at the seq its sender was told')
  t.same(newMessages(bob, text).map((m) => m.seq), [ack.seq], 'the other member got it once, at that seq')
  t.same(newMessages(alice, text), [], 'the sender got the ack instead, as always')
})

// Its acks are lost, and the feed's copy comes only after the funnel gave up: the sender is told it is
// unconfirmed, and then sees it in the room like everyone else.
test('a message left unconfirmed that turns out stored shows up in the room for its sender too, once', async (t) => {
  const nats = await natsServer(t)
  const sim = await simulator(t)
  const openai = await openaiService(t, nats.url, sim)
  const tap = await NatsTap.losingReplies(nats.url, 'Nats-Msg-Id: message:')
  t.teardown(() => tap.close())
  const edge = await funnel(t, tap.url, openai.url, { WS_REQUEST_TIMEOUT_MS: '1000' })

  const alice = await WsClient.connect(edge.url, token('alice'))
  t.teardown(() => alice.close())
  await alice.request('create_room', { room: 'late-feed' })
  await alice.request('join_room', { room: 'late-feed' })
  const text = 'left unconfirmed, then seen stored'
  tap.hold(text)
  const refused = await alice.request('message', { room: 'late-feed', text }).catch((err: unknown) => err as Record<string, unknown>)
  t.equal(refused.code, 'FUNNEL_UNCONFIRMED', 'unconfirmed: the funnel cannot tell whether it was stored')
  t.ok(tap.dropped >= 1, `no JetStream ack reached the funnel (${tap.dropped} dropped)`)
  t.ok(tap.release() >= 1, 'the feed\'s copy was held back until then')

  await alice.until((fs) => fs.some((f) => f.event === 'new_message' && f.data.text === text), 10_000)
  const copies = await logged(openai.url, 'late-feed', text)
  t.equal(copies.length, 1, 'it was stored, once')
  const shown = newMessages(alice, text)
  t.same(shown.map((m) => [m.seq, m.user]), [[copies[0]?.seq, 'alice']], 'and shown to its sender once, as hers, at its seq')
  t.type(shown[0]?.clientId, 'string', 'with the clientId that ties it to the frame she sent')
})
