import { availableParallelism, loadavg } from 'node:os'
import { machine, progress, writeSection } from './report.js'
import { renderSection, verdicts, ms, type RealtimeResults, type TargetResult } from './realtime/results-table.js'
import type { RoomClient } from './realtime/room-client.js'
import { TARGET_NAMES, externalFunnel, startBaseline, startSkein, type Target, type TargetKey } from './realtime/targets.js'
import { W1, W2, W3, closeAll, connectJoined, idleConnections, roomFlood, roomLatency } from './realtime/workloads.js'

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

/** W1 then W2, on one set of receivers in one room. */
async function measureRoom (target: Target, result: TargetResult, say: Say): Promise<void> {
  const { room, sender } = await openRoom(target)
  const users = Array.from({ length: W1.receivers }, (_v, i) => `recv-${String(i).padStart(3, '0')}`)
  const receivers = await connectJoined(target.connect, users, room, { concurrency: 20 }).catch(async (err: unknown) => {
    await sender.close()
    throw err
  })
  try {
    say(`room ${room}; W1: ${W1.messages} messages at ${W1.perSecond}/s to ${W1.receivers} receivers`)
    result.w1 = await roomLatency(room, sender, receivers)
    say(`W1: p50 ${ms(result.w1.latency.p50)} ms, p99 ${ms(result.w1.latency.p99)} ms, max ${ms(result.w1.latency.max)} ms, loss ${result.w1.loss}; ack p50 ${ms(result.w1.ack.p50)} ms; client event-loop p99 ${ms(result.w1.clientLoopP99Ms)} ms`)
    say(`W2: flood for ${W2.seconds} s, ${W2.window} messages in flight`)
    const w2 = result.w2 = await roomFlood(room, sender, receivers, target.pid, target.helpers)
    say(`W2: ${Math.round(w2.deliveriesPerS)} deliveries/s, ${w2.acked} acked, loss ${w2.loss}, closed ${w2.closed.length}, resumes ${w2.resumes.length}; CPU client ${w2.clientCpu.toFixed(0)} %, server ${w2.serverCpu.toFixed(0)} %${Object.entries(w2.helpersCpu).map(([n, v]) => `, ${n} ${v.toFixed(0)} %`).join('')}`)
    if (w2.closed.length) say(`W2: closed by the server: ${w2.closed.slice(0, 5).join('; ')}`)
    if (w2.resumes.length) say(`W2: resumed after: ${w2.resumes.slice(0, 5).join('; ')}`)
  } finally {
    await closeAll([...receivers, sender])
  }
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

async function startTarget (key: TargetKey): Promise<Target> {
  const funnelUrl = process.env.BENCH_FUNNEL_URL
  return key === 'skein' ? (funnelUrl ? externalFunnel(funnelUrl) : await startSkein()) : await startBaseline(key)
}

/** W1 and W2 on a fresh server, then W3 on another fresh one; a failed part does not stop the next. */
async function measure (key: TargetKey): Promise<TargetResult> {
  const result: TargetResult = { name: TARGET_NAMES[key] }
  const errors: string[] = []
  const noteLoad = (): void => { result.load = Math.max(result.load ?? 0, loadavg()[0]!) }
  noteLoad()
  if (loadavg()[0]! > availableParallelism()) progress(`realtime: the machine is busy (load ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores): expect noisy numbers`)
  for (const [part, run] of [['W1/W2', measureRoom], ['W3', measureIdle]] as const) {
    progress(`realtime: ${TARGET_NAMES[key]}: starting (for ${part})`)
    let target: Target
    try {
      target = await startTarget(key)
    } catch (err) {
      errors.push(`${part}: the server did not start: ${message(err)}`)
      progress(`realtime: ${TARGET_NAMES[key]}: ✖ ${errors.at(-1)!}`)
      continue
    }
    result.name = target.name
    const say: Say = (m) => progress(`realtime: ${target.name}: ${m}`)
    try {
      await run(target, result, say)
      noteLoad()
    } catch (err) {
      errors.push(`${part}: ${message(err)}${target.logs ? ` (server logs: ${target.logs})` : ''}`)
      say(`✖ ${errors.at(-1)!}`)
    } finally {
      await target.stop()
    }
  }
  if (errors.length) result.error = errors.join('; ')
  return result
}

/**
 * Room broadcast latency (W1), flood throughput (W2) and memory per idle connection (W3) for a plain ws room
 * server, a socket.io 4.8 room server and Skein's funnel /ws, one after another, each fresh. Against a funnel
 * already running: BENCH_FUNNEL_URL (and BENCH_JWT_SECRET, BENCH_FUNNEL_PID). Only some servers:
 * BENCH_REALTIME_TARGETS=ws,socketio,skein.
 */
export async function realtime (): Promise<void> {
  const only = (process.env.BENCH_REALTIME_TARGETS ?? 'ws,socketio,skein').split(',').map((s) => s.trim())
  const results: RealtimeResults = {}
  for (const key of ['ws', 'socketio', 'skein'] as TargetKey[]) {
    if (only.includes(key)) results[key] = await measure(key)
  }
  const section = renderSection(results, machine())
  if (['ws', 'socketio', 'skein'].every((k) => only.includes(k))) {
    writeSection('realtime', section)
  } else {
    // A partial run (BENCH_REALTIME_TARGETS) leaves docs/benchmarks.md as it was: the ratios need all three.
    process.stdout.write(`${section}\n`)
    progress('realtime: partial run (BENCH_REALTIME_TARGETS): docs/benchmarks.md left as it was')
  }
  for (const v of verdicts(results)) progress(`realtime: ${v.goal}: ${v.measured} → ${v.pass === undefined ? 'not measured' : v.pass ? 'PASS' : 'FAIL'}`)
  if (Object.values(results).some((r) => r.error)) process.exitCode = 1
}
