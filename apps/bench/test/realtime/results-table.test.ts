import { test } from 'tap'
import { againstStored, renderSection, verdicts, type TargetResult } from '../../src/realtime/results-table.js'
import type { W2Result } from '../../src/realtime/workloads.js'

const w2 = (deliveriesPerS: number, loss = 0): W2Result => ({
  deliveriesPerS, ackedPerS: deliveriesPerS / 100, acked: deliveriesPerS / 10, loss, duplicates: 0, sendErrors: 0, closed: [], resumes: [],
  latency: { count: 1, p50: 40, p99: 80, max: 90 }, clientCpu: 90, serverCpu: 80, helpersCpu: {}
})
const result = (name: string, p99: number, rate: number, kib: number, loss = 0): TargetResult => ({
  name,
  w1: { latency: { count: 200_000, p50: p99 / 3, p99, max: p99 * 2 }, ack: { count: 2000, p50: 1, p99: 2, max: 3 }, first: { count: 2000, p50: 0.5, p99: 1.5, max: 4 }, spread: { count: 2000, p50: 1.75, p99: 2.25, max: 5 }, expected: 200_000, loss: 0, duplicates: 0, ackErrors: 0, clientLoopP99Ms: 1.5, roundsP99: [p99, p99 * 0.9, p99 * 1.1] },
  w2: w2(rate, loss),
  w3: { connections: 2000, beforeKib: 80_000, afterKib: 80_000 + kib * 2000, kibPerConnection: kib, connectSeconds: 2 }
})

test('Skein passes every target when it is within the ratios', async (t) => {
  const v = verdicts({ ws: result('plain ws', 4, 100_000, 14), socketio: result('socket.io', 9, 70_000, 23), skein: result('Skein', 6, 90_000, 16) })
  t.same(v.map((x) => x.pass), [true, true, true, true, true])
  t.match(v[0]!.measured, '6.00 ms vs 4.00 ms = 1.50×')
  t.match(v[2]!.measured, '90,000/s vs 100,000/s = 0.90×')
})

test('each target fails on its own limit', async (t) => {
  const ws = result('plain ws', 4, 100_000, 14)
  const socketio = result('socket.io', 5, 70_000, 23)
  t.same(verdicts({ ws, socketio, skein: result('Skein', 6.1, 89_000, 16.1, 3) }).map((x) => x.pass), [false, false, false, false, false])
  t.same(verdicts({ ws, socketio, skein: result('Skein', 5, 100_000, 10) }).map((x) => x.pass), [true, false, true, true, true], 'equal to socket.io is not below it')
})

test('what was not measured is neither PASS nor FAIL, and the section says why', async (t) => {
  const skein: TargetResult = { name: 'Skein funnel /ws', error: 'create_room was refused: FUNNEL_UNKNOWN_EVENT' }
  const r = { ws: result('plain ws', 4, 100_000, 14), socketio: result('socket.io', 9, 70_000, 23), skein }
  t.same(verdicts(r).map((x) => x.pass), [undefined, undefined, undefined, undefined, undefined])
  const md = renderSection(r, 'Node v20, 2 cores')
  t.match(md, '| plain ws | 1.33 | **4.00** | 8.00 | 0 | **100,000** | 1,000 | 80.0 | 0 | **14.0** |')
  t.match(md, '| Skein funnel /ws | — | — | — | — | — | — | — | — | — |')
  t.match(md, 'W1 p99 of each round, in the order run: plain ws 4.00 / 3.60 / 4.40 ms, socket.io 9.00 / 8.10 / 9.90 ms.')
  t.match(md, 'clients\' reading): plain ws 0.50 / 1.50 then 1.75 / 2.25 ms, socket.io 0.50 / 1.50 then 1.75 / 2.25 ms.')
  t.match(md, '| W3 ≤ 16 KiB per connection | not measured | — |')
  t.match(md, '**Skein funnel /ws not fully measured**: create_room was refused')
  t.notMatch(md, 'PASS')
})

test('a server that cannot take all the idle connections in time fails W3 and says how far it got', async (t) => {
  const skein = result('Skein funnel /ws', 5, 95_000, 0)
  skein.w3 = { connections: 1482, beforeKib: 90_000, afterKib: undefined, kibPerConnection: undefined, connectSeconds: 60.2 }
  const r = { ws: result('plain ws', 4, 100_000, 14), socketio: result('socket.io', 9, 70_000, 23), skein }
  const w3 = verdicts(r)[4]!
  t.equal(w3.pass, false)
  t.equal(w3.measured, 'only 1,482 of 2,000 connections joined within 60 s')
  t.match(renderSection(r, 'Node v20'), '| 0 | 1,482 of 2,000 joined in 60 s |')
})

test('Skein against plain ws + JetStream is a line of its own, beside the targets, when both were measured', async (t) => {
  const r = { ws: result('plain ws', 4, 100_000, 14), socketio: result('socket.io', 9, 70_000, 23), wsjs: result('plain ws + JetStream', 8, 50_000, 14), skein: result('Skein', 6, 90_000, 16) }
  t.equal(againstStored(r), 'Skein against plain ws + JetStream (the same plain ws server storing each message in JetStream, every write synced, and sending it once stored): W1 p99 6.00 ms vs 8.00 ms = 0.75×; W2 90,000/s vs 50,000/s = 1.80×.')
  t.same(verdicts(r).map((x) => x.pass), [true, true, true, true, true], 'the targets stay against plain ws and socket.io')
  const md = renderSection(r, 'Node v20, 2 cores')
  t.match(md, '| plain ws + JetStream | 2.67 | **8.00** |')
  t.match(md, 'W1 p99 6.00 ms vs 8.00 ms = 0.75×')
  t.equal(againstStored({ ws: r.ws, skein: r.skein }), undefined)
})
