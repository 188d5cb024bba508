import { availableParallelism, loadavg } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { machine, progress, writeSection } from './report.js'
import { renderSection, verdicts, ms, type RealtimeResults, type TargetResult } from './realtime/results-table.js'
import type { RoomClient } from './realtime/room-client.js'
import { TARGET_NAMES, externalFunnel, startBaseline, startSkein, type Target, type TargetKey } from './realtime/targets.js'
import { W1, W1Pool, W2, W3, closeAll, connectJoined, idleConnections, roomFlood, roomLatency } from './realtime/workloads.js'

/** Quiet time between starting the servers and W1's first round. */
const SETTLE_MS = 5_000

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n').slice(0, 6).join(' ')

type Say = (message: string) => void

/** A room on the target and its sender; the room is new on every run, so a running funnel can be measured again. */
async function openRoom (target: Target): Promise<{ room: string, sender: RoomClient }> {
  const room = `bench-${Date.now().toString(36)}`
  const sender = await target.connect('bench-sender')
  try {
    await sender.createRoom(room)
    await sender.join(room)
  } catch (err) {
    await sender.close()
    throw err
  }
  return { room, sender }
}

/** A server for W1 and W2: its room, the room's sender, and W1's deliveries so far. */
interface RoomUnderTest {
  key: TargetKey
  target: Target
  room: string
  sender: RoomClient
  pool: W1Pool
  say: Say
}

async function openRoomUnderTest (key: TargetKey, target: Target): Promise<RoomUnderTest> {
  const { room, sender } = await openRoom(target)
  return { key, target, room, sender, pool: new W1Pool(), say: (m) => progress(`realtime: ${target.name}: ${m}`) }
}

/**
 * W1.receivers fresh receivers in the room for `run`, closed after it: the bench process only ever holds the
 * clients of the server being measured (idle clients of the others would cost its event loop).
 */
async function withReceivers<V> (r: RoomUnderTest, run: (receivers: RoomClient[]) => Promise<V>): Promise<V> {
  const users = Array.from({ length: W1.receivers }, (_v, i) => `recv-${String(i).padStart(3, '0')}`)
  const receivers = await connectJoined(r.target.connect, users, r.room, { concurrency: 20 })
  try {
    return await run(receivers)
  } finally {
    await closeAll(receivers)
  }
}

async function w1Round (r: RoomUnderTest, result: TargetResult, round: number): Promise<void> {
  r.say(`room ${r.room}; W1 round ${round + 1} of ${W1.rounds}: ${W1.messages} messages at ${W1.perSecond}/s to ${W1.receivers} receivers`)
  const w1 = result.w1 = await withReceivers(r, async (receivers) => await roomLatency(r.room, r.sender, receivers, r.pool))
  r.say(`W1 round ${round + 1}: p99 ${ms(w1.roundsP99.at(-1)!)} ms; all rounds so far: p50 ${ms(w1.latency.p50)} ms, p99 ${ms(w1.latency.p99)} ms, max ${ms(w1.latency.max)} ms, loss ${w1.loss}; ack p50 ${ms(w1.ack.p50)} ms; client event-loop p99 ${ms(w1.clientLoopP99Ms)} ms`)
}

async function w2Flood (r: RoomUnderTest, result: TargetResult): Promise<void> {
  r.say(`W2: flood for ${W2.seconds} s, ${W2.window} messages in flight`)
  const w2 = result.w2 = await withReceivers(r, async (receivers) => await roomFlood(r.room, r.sender, receivers, r.target.pid, r.target.helpers))
  r.say(`W2: ${Math.round(w2.deliveriesPerS)} deliveries/s, ${w2.acked} acked, loss ${w2.loss}, closed ${w2.closed.length}, resumes ${w2.resumes.length}; CPU client ${w2.clientCpu.toFixed(0)} %, server ${w2.serverCpu.toFixed(0)} %${Object.entries(w2.helpersCpu).map(([n, v]) => `, ${n} ${v.toFixed(0)} %`).join('')}`)
  if (w2.closed.length) r.say(`W2: closed by the server: ${w2.closed.slice(0, 5).join('; ')}`)
  if (w2.resumes.length) r.say(`W2: resumed after: ${w2.resumes.slice(0, 5).join('; ')}`)
}

/** W3, on a server nothing else has run on. */
async function measureIdle (target: Target, result: TargetResult, say: Say): Promise<void> {
  const { room, sender } = await openRoom(target)
  try {
    say(`room ${room}; W3: ${W3.connections} idle connections`)
    result.w3 = await idleConnections(target.connect, room, sender, target.pid, target.gc, say)
    if (result.w3.kibPerConnection !== undefined) say(`W3: ${result.w3.kibPerConnection.toFixed(1)} KiB per connection`)
    else if (result.w3.connections === W3.connections) say('W3: no RSS (the server\'s pid is unknown: set BENCH_FUNNEL_PID)')
  } finally {
    await sender.close()
  }
}

/** A part that failed: noted for the report (with where the server's logs are) and said at once. */
function recordFailure (errors: string[], key: TargetKey, part: string, err: unknown, target?: Target): void {
  const text = `${part}: ${message(err)}${target?.logs ? ` (server logs: ${target.logs})` : ''}`
  errors.push(text)
  progress(`realtime: ${TARGET_NAMES[key]}: ✖ ${text}`)
}

async function startTarget (key: TargetKey): Promise<Target> {
  const funnelUrl = process.env.BENCH_FUNNEL_URL
  return key === 'skein' ? (funnelUrl ? externalFunnel(funnelUrl) : await startSkein()) : await startBaseline(key)
}

/**
 * W1 and W2 with every server up at once. W1 runs in rounds, the servers taking turns (each round in another
 * order), so that a noisy spell of the machine falls on all of them alike rather than on whichever ran then.
 * Then each server's W2, on the same room. A server that fails drops out; the others go on.
 */
async function measureRooms (keys: TargetKey[], results: RealtimeResults, errors: Map<TargetKey, string[]>): Promise<void> {
  const fail = (key: TargetKey, part: string, err: unknown, target?: Target): void => recordFailure(errors.get(key)!, key, part, err, target)
  const rooms: RoomUnderTest[] = []
  const targets: Target[] = []
  try {
    for (const key of keys) {
      progress(`realtime: ${TARGET_NAMES[key]}: starting (for W1/W2)`)
      let target: Target
      try {
        target = await startTarget(key)
      } catch (err) {
        fail(key, 'W1/W2: the server did not start', err)
        continue
      }
      targets.push(target)
      results[key]!.name = target.name
      try {
        rooms.push(await openRoomUnderTest(key, target))
      } catch (err) {
        fail(key, 'W1/W2', err, target)
      }
    }
    // What the last server's start left running (a JIT warming, streams being created) settles first.
    await sleep(SETTLE_MS)
    for (let round = 0; round < W1.rounds; round++) {
      const turn = rooms.map((_r, i) => rooms[(i + round) % rooms.length]!)
      for (const r of turn) {
        if (errors.get(r.key)!.length) continue
        noteLoad(results[r.key]!)
        await w1Round(r, results[r.key]!, round).catch((err: unknown) => fail(r.key, `W1 round ${round + 1}`, err, r.target))
      }
    }
    for (const r of rooms) {
      if (errors.get(r.key)!.length) continue
      noteLoad(results[r.key]!)
      await w2Flood(r, results[r.key]!).catch((err: unknown) => fail(r.key, 'W2', err, r.target))
      noteLoad(results[r.key]!)
    }
  } finally {
    await closeAll(rooms.map((r) => r.sender))
    for (const t of targets) await t.stop()
  }
}

/** W3 on a fresh server, alone. */
async function measureAlone (key: TargetKey, result: TargetResult, errors: string[]): Promise<void> {
  noteLoad(result)
  progress(`realtime: ${TARGET_NAMES[key]}: starting (for W3)`)
  let target: Target
  try {
    target = await startTarget(key)
  } catch (err) {
    recordFailure(errors, key, 'W3: the server did not start', err)
    return
  }
  result.name = target.name
  const say: Say = (m) => progress(`realtime: ${target.name}: ${m}`)
  try {
    await measureIdle(target, result, say)
    noteLoad(result)
  } catch (err) {
    recordFailure(errors, key, 'W3', err, target)
  } finally {
    await target.stop()
  }
}

const noteLoad = (result: TargetResult): void => { result.load = Math.max(result.load ?? 0, loadavg()[0]!) }

/** The servers that run W3 (memory per idle connection): plain ws + JetStream holds its sockets as plain ws does. */
const W3_KEYS: readonly TargetKey[] = ['ws', 'socketio', 'skein']
/** The servers the issue's targets compare: a run without one of them leaves docs/benchmarks.md as it was. */
const REQUIRED_KEYS: readonly TargetKey[] = ['ws', 'socketio', 'skein']

/**
 * Room broadcast latency (W1), flood throughput (W2) and memory per idle connection (W3) for a plain ws room
 * server, a socket.io 4.8 room server and Skein's funnel /ws, with plain ws + JetStream (the ws server storing
 * every message before sending it) beside them for W1 and W2: W1 and W2 with all up, W1 in rounds taking
 * turns; W3 on each alone, fresh. Against a funnel already running: BENCH_FUNNEL_URL (and BENCH_JWT_SECRET,
 * BENCH_FUNNEL_PID). Only some servers: BENCH_REALTIME_TARGETS=ws,socketio,wsjs,skein.
 */
export async function realtime (): Promise<void> {
  const only = (process.env.BENCH_REALTIME_TARGETS ?? 'ws,socketio,wsjs,skein').split(',').map((s) => s.trim())
  const keys = (['ws', 'socketio', 'wsjs', 'skein'] as TargetKey[]).filter((k) => only.includes(k))
  const results: RealtimeResults = {}
  const errors = new Map<TargetKey, string[]>()
  for (const key of keys) {
    results[key] = { name: TARGET_NAMES[key] }
    errors.set(key, [])
  }
  if (loadavg()[0]! > availableParallelism()) progress(`realtime: the machine is busy (load ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores): expect noisy numbers`)
  await measureRooms(keys, results, errors)
  for (const key of keys) if (W3_KEYS.includes(key)) await measureAlone(key, results[key]!, errors.get(key)!)
  for (const key of keys) if (errors.get(key)!.length) results[key]!.error = errors.get(key)!.join('; ')
  const section = renderSection(results, machine())
  if (REQUIRED_KEYS.every((k) => only.includes(k))) {
    writeSection('realtime', section)
  } else {
    // A partial run (BENCH_REALTIME_TARGETS) leaves docs/benchmarks.md as it was: the ratios need all three.
    process.stdout.write(`${section}\n`)
    progress('realtime: partial run (BENCH_REALTIME_TARGETS): docs/benchmarks.md left as it was')
  }
  for (const v of verdicts(results)) progress(`realtime: ${v.goal}: ${v.measured} → ${v.pass === undefined ? 'not measured' : v.pass ? 'PASS' : 'FAIL'}`)
  if (Object.values(results).some((r) => r.error)) process.exitCode = 1
}
