import { test } from 'tap'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect as connectNats } from '@nats-io/transport-node'
import { signToken } from '@skein/kit'
import { STORE_STREAM } from '../../src/realtime/baseline-rooms.js'
import { rssKib } from '../../src/realtime/proc-stats.js'
import { jsonConnector, socketIoConnector, type NewMessageData, type RoomClient } from '../../src/realtime/room-client.js'
import { startBaseline } from '../../src/realtime/targets.js'

for (const key of ['ws', 'socketio', 'wsjs'] as const) {
  test(`the ${key} baseline speaks the room protocol the bench measures`, async (t) => {
    const target = await startBaseline(key)
    const clients: RoomClient[] = []
    t.teardown(async () => {
      await Promise.all(clients.map((c) => c.close()))
      await target.stop()
    })
    const connect = async (user: string): Promise<RoomClient> => {
      const c = await target.connect(user)
      clients.push(c)
      return c
    }
    const alice = await connect('alice')
    t.same(await alice.createRoom('bench-room'), { id: 'bench-room' })
    t.same(await alice.join('bench-room'), { room: 'bench-room', members: ['alice'], lastSeq: 0 })
    const bob = await connect('bob')
    const carol = await connect('carol')
    t.same((await bob.join('bench-room')).members, ['alice', 'bob'])
    await carol.join('bench-room')

    const got: Record<string, NewMessageData[]> = { alice: [], bob: [], carol: [] }
    for (const c of [alice, bob, carol]) c.onMessage = (m) => got[c.user]!.push(m)
    const ack = await alice.send('bench-room', 'hello room')
    t.match(ack, { room: 'bench-room', seq: 1, id: String })
    const second = await bob.send('bench-room', 'hi alice')
    t.equal(second.seq, 2, 'seq grows per room')
    await new Promise((resolve) => setTimeout(resolve, 200))
    t.same(got.alice!.map((m) => m.text), ['hi alice'], 'a sender does not get its own message back')
    t.same(got.carol!.map((m) => [m.seq, m.user, m.text]), [[1, 'alice', 'hello room'], [2, 'bob', 'hi alice']])
    t.equal(got.bob![0]!.id, ack.id, 'new_message carries the id the sender was acked with')
    t.ok(!Number.isNaN(Date.parse(got.bob![0]!.ts)), 'ts is a date')

    if (key === 'wsjs') {
      const nc = await connectNats({ servers: target.natsUrl! })
      t.teardown(() => nc.close())
      const stored = await (await jetstreamManager(nc)).streams.info(STORE_STREAM)
      t.equal(stored.state.messages, 2, 'each message was stored in JetStream; its seq is the stream\'s')
    } else t.equal(target.natsUrl, undefined)

    await t.rejects(alice.send('other-room', 'x'), /BENCH_NOT_MEMBER/, 'only members may post')
    await t.rejects(alice.send('bench-room', ''), /BENCH_VALIDATION/)
    t.equal(alice.closedBy, undefined)

    const before = rssKib(target.pid!)
    await target.gc!()
    t.ok(rssKib(target.pid!) > 0 && before > 0, 'the server exposes a GC and its RSS is readable')
  })

  if (key === 'wsjs') continue // the ws baseline's handshake, tested above as ws
  test(`the ${key} baseline refuses a connection without a valid token`, async (t) => {
    const target = await startBaseline(key)
    t.teardown(() => target.stop())
    const forged = signToken('another-secret-0123456789abcdef0123456789', 'mallory', 60).token
    const connect = key === 'ws' ? jsonConnector(`${target.url.replace('http', 'ws')}/ws`, () => forged) : socketIoConnector(target.url, () => forged)
    await t.rejects(connect('mallory'), key === 'ws' ? /answered 401/ : /unauthorized/)
  })
}
