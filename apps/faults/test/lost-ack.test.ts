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
