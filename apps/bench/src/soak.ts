// `npm run bench -- soak`: the whole stack on free ports, 2,000 WebSockets in 20 rooms for 10 minutes of steady
// chat, streamed answers and tasks; the funnel's memory and latency at the start and the end, and a check
// that nothing acknowledged was lost. Not part of CI. Sizes and rates: SOAK_* (see soak/settings.ts).
import { mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { signToken } from '@skein/kit'
import { MAIN_ROOM } from '@skein/schemas'
import { freePort, freePorts, startStack, type RunningStack } from '@skein/stack'
import { machine, progress, writeSection } from './report.js'
import { nowMs, readStamp, Samples } from './realtime/latency.js'
import { cpuSeconds, rssKib } from './realtime/proc-stats.js'
import { jsonConnector, type Connect, type RoomClient } from './realtime/room-client.js'
import { closeAll, connectJoined } from './realtime/workloads.js'
import { DeliveryLedger } from './soak/ledger.js'
import { Stopwatch } from './soak/stopwatch.js'
import { runLoad, type SoakRoom } from './soak/load.js'
import { renderSoakSection, type SoakResult } from './soak/section.js'
import { fullSize, roomSizes, roomUsers, soakSettings, type SoakSettings } from './soak/settings.js'
import { Trend, rssGrowth, slopePerMinute } from './soak/trend.js'

const SAMPLE_EVERY_MS = 5_000
const say = (m: string): void => progress(`soak: ${m}`)
const mib = (kib: number): string => (kib / 1024).toFixed(1)
const ms = (v: number): string => (Number.isFinite(v) ? v.toFixed(1) : '–')

async function start (s: SoakSettings): Promise<{ stack: RunningStack, dataDir: string, funnelPort: number }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'skein-bench-soak-'))
  const ports = await freePorts()
  const stack = await startStack({
    dataDir,
    ports,
    // Our own nats-server on a free port, never one already answering on 4222.
    natsUrl: `nats://127.0.0.1:${await freePort()}`,
    web: false,
    env: {
      LOG_LEVEL: 'warn',
      SIM_TOKENS_PER_SECOND: String(s.simTokensPerS),
      // Every client connects from 127.0.0.1: the per-address cap (256 by default) would refuse the 257th.
      WS_MAX_SOCKETS_PER_ADDRESS: String(s.connections + 64)
    },
    onProgress: (m) => say(m)
  })
  return { stack, dataDir, funnelPort: ports.funnel }
}

/** CPU seconds of each process of the stack and of the bench itself, now. */
function cpuNow (stack: RunningStack): Record<string, number> {
  const out: Record<string, number> = {}
  for (const p of stack.parts) {
    if (p.pid === undefined) continue
    try { out[p.name] = cpuSeconds(p.pid) } catch {}
  }
  const u = process.cpuUsage()
  out['bench (clients)'] = (u.user + u.system) / 1e6
  return out
}

export async function soak (): Promise<void> {
  const s = soakSettings(process.env)
  const sizes = roomSizes(s.connections, s.rooms)
  say(`${s.connections} connections in ${s.rooms} rooms, ${s.warmupS} s warm-up then ${s.minutes} min measured; a message per room every ${s.messageEveryMs} ms, an llm_request per room every ${s.llmEveryS} s, a task every ${s.taskEveryS} s; simulator at ${s.simTokensPerS} tokens/s`)
  const loadAtStart = loadavg()[0]!
  const { stack, dataDir, funnelPort } = await start(s)
  const funnelPid = stack.services.get('funnel')?.pid
  if (funnelPid === undefined) throw new Error('the funnel has no pid')
  const logs = join(dataDir, 'logs')
  const clients: RoomClient[] = []
  let failed = true
  try {
    const ledger = new DeliveryLedger(MAIN_ROOM)
    let trend: Trend | undefined
    const firstToken = new Stopwatch((at, ms) => trend?.firstToken(at, ms))
    const taskTimes = new Samples()
    const task = new Stopwatch((_at, ms) => taskTimes.add(ms / 1000))

    // Each client's frames go to the ledger (and the trend) from its first frame on.
    const ttl = Math.ceil(s.warmupS + s.minutes * 60 + s.drainS) + 3_600
    const tokens = new Map<string, string>()
    const base = jsonConnector(`ws://127.0.0.1:${funnelPort}/ws`, (user) => {
      let t = tokens.get(user)
      if (!t) tokens.set(user, t = signToken(stack.jwtSecret, user, ttl).token)
      return t
    })
    const roomOf = new Map<string, string>()
    const connect: Connect = async (user) => {
      const client = await base(user)
      const n = clients.push(client) - 1
      ledger.join(n, user, roomOf.get(user)!)
      client.onMessage = (m) => {
        const at = performance.now()
        ledger.receive(n, 'new_message', m as unknown as Record<string, unknown>)
        trend?.delivered(at)
        const stamp = readStamp(m.text)
        if (stamp?.tag === 'm') trend?.latency(at, nowMs() - stamp.sentAtMs)
      }
      client.onEvent = (event, data) => {
        const at = performance.now()
        ledger.receive(n, event, data)
        trend?.delivered(at)
        if (event === 'llm_token' && data.index === 0) firstToken.end(data.messageId as string, at)
        else if (event === 'thread_updated' && data.room === MAIN_ROOM && data.status === 'completed') task.end(data.thread as string, at)
      }
      return client
    }

    // The rooms, each made by its first member, then filled.
    const run = Date.now().toString(36)
    const rooms: SoakRoom[] = []
    const connectStarted = performance.now()
    for (let r = 0; r < s.rooms; r++) {
      const id = `soak-${run}-${String(r).padStart(2, '0')}`
      const users = roomUsers(r, sizes[r]!)
      for (const u of users) roomOf.set(u, id)
      const first = await connect(users[0]!)
      await first.createRoom(id)
      await first.join(id)
      const rest = await connectJoined(connect, users.slice(1), id, { concurrency: 50, deadlineMs: 180_000 })
      const index = new Map(clients.map((c, n) => [c, n]))
      rooms.push({ id, members: [first, ...rest].map((client) => ({ n: index.get(client)!, client })) })
      if ((r + 1) % 5 === 0 || r === s.rooms - 1) say(`${clients.length} connections joined (${r + 1} of ${s.rooms} rooms) after ${((performance.now() - connectStarted) / 1000).toFixed(1)} s`)
    }
    // One member of each room also follows the main room, where the tasks' lifecycle events go.
    for (const room of rooms) {
      const { n, client } = room.members[0]!
      ledger.join(n, client.user, MAIN_ROOM)
      await client.join(MAIN_ROOM)
    }
    const connectS = (performance.now() - connectStarted) / 1000
    say(`${clients.length} connections in ${s.rooms} rooms after ${connectS.toFixed(1)} s; ${rooms.length} of them also in the main room`)
    await sleep(2_000)
    ledger.beginCheck()

    // Warm-up, then the measured windows.
    const warmStart = performance.now()
    trend = new Trend(warmStart, warmStart + s.warmupS * 1000, s.windowMs, Math.ceil((s.minutes * 60_000) / s.windowMs))
    const t = trend
    const loop = monitorEventLoopDelay({ resolution: 10 })
    let cpuAtStart: Record<string, number> | undefined
    let cpuAtEnd: Record<string, number> | undefined
    let shown = -1
    const sampler = setInterval(() => {
      const at = performance.now()
      let rss: number
      let cpu: number
      try {
        rss = rssKib(funnelPid)
        cpu = cpuSeconds(funnelPid)
      } catch {
        return
      }
      t.sample(at, rss, cpu, loadavg()[0]!)
      const done = Math.floor((at - t.startMs) / t.windowMs) - 1
      if (done > shown && done < t.windows) {
        shown = done
        const w = t.stats()[done + 1]!
        say(`window ${done + 1} of ${t.windows}: funnel RSS ${mib(w.rssKib.median)} MiB, message p50/p99 ${ms(w.latency.p50)}/${ms(w.latency.p99)} ms, first token p50 ${ms(w.firstToken.p50)} ms, ${Math.round(w.deliveriesPerS)} deliveries/s, funnel CPU ${w.funnelCpu.toFixed(0)} %, load ${w.load.toFixed(1)}`)
      }
    }, SAMPLE_EVERY_MS)
    const stopAt = t.endMs
    setTimeout(() => { cpuAtStart = cpuNow(stack); loop.enable() }, Math.max(0, t.startMs - performance.now())).unref()
    setTimeout(() => { cpuAtEnd = cpuNow(stack); loop.disable() }, Math.max(0, stopAt - performance.now())).unref()
    say(`load running: warm-up until ${s.warmupS} s, then ${t.windows} window(s) of ${t.windowMs / 1000} s`)
    const counts = await runLoad({
      settings: s,
      rooms,
      ledger,
      trend: t,
      onAsked: (id, sentAt) => firstToken.start(id, sentAt),
      onTask: (thread, sentAt) => task.start(thread, sentAt),
      stopAt
    })
    clearInterval(sampler)
    cpuAtEnd ??= cpuNow(stack)

    // Drain: every answer and task finished everywhere, and nothing delivered for 3 s.
    say(`load stopped: ${counts.messages} messages, ${counts.llmRequests} llm_requests, ${counts.tasks} tasks sent; ${counts.refused} refused; draining`)
    const drainStart = performance.now()
    let last = -1
    let quietSince = performance.now()
    for (;;) {
      if (ledger.deliveries !== last) {
        last = ledger.deliveries
        quietSince = performance.now()
      }
      const u = ledger.unfinished()
      if (u.answers === 0 && u.tasks === 0 && performance.now() - quietSince > 3_000) break
      if (performance.now() - drainStart > s.drainS * 1000) {
        say(`drain: still unfinished after ${s.drainS} s: ${u.answers} answer(s), ${u.tasks} task(s)`)
        break
      }
      await sleep(250)
    }
    const drainS = (performance.now() - drainStart) / 1000
    const check = ledger.check()

    const windows = t.stats()
    const startWindow = windows[1]!
    const endWindow = windows[windows.length - 1]!
    const spanS = (t.endMs - t.startMs) / 1000
    const cpu: Record<string, number> = {}
    for (const [name, v] of Object.entries(cpuAtEnd ?? {})) {
      const before = cpuAtStart?.[name]
      if (before !== undefined) cpu[name] = ((v - before) / spanS) * 100
    }
    const result: SoakResult = {
      settings: s,
      machine: machine(),
      loadAtStart,
      connectS,
      connections: clients.length,
      windows,
      rss: { startKib: startWindow.rssKib.median, endKib: endWindow.rssKib.median, maxKib: Math.max(...windows.slice(1).map((w) => w.rssKib.max)), slopeKibPerMin: slopePerMinute(t.rssPoints), ...rssGrowth(startWindow.rssKib.median, endWindow.rssKib.median, s.rssLimit) },
      counts,
      check,
      cpu,
      clientLoopP99Ms: loop.percentile(99) / 1e6,
      closed: clients.filter((c) => c.closedBy !== undefined).map((c) => `${c.user}: ${c.closedBy!}`),
      resumes: clients.flatMap((c) => c.resumes.map((why) => `${c.user}: ${why}`)),
      drainS,
      taskSeconds: taskTimes.summary()
    }
    const section = renderSoakSection(result)
    if (fullSize(s)) {
      writeSection('soak', section)
    } else {
      process.stdout.write(`\n${section}\n\n`)
      say(`a shorter or smaller run than the issue's (2,000 connections, 20 rooms, 10 minutes): docs/benchmarks.md left as it was`)
    }
    say(`nothing lost: ${check.lost ? 'FAIL' : 'PASS'} (${check.delivered} of ${check.expectedDeliveries} deliveries, ${check.missing} missing, ${check.duplicates} duplicates, ${check.outOfOrder} out of order; ${check.answers.complete} of ${check.answers.streams} answers complete everywhere, ${check.answers.mismatched} mismatched; ${check.tasks.completed} of ${check.tasks.created} tasks completed)`)
    for (const f of check.findings) say(`  ✖ ${f}`)
    say(`memory: funnel RSS ${mib(result.rss.startKib)} MiB after the warm-up → ${mib(result.rss.endKib)} MiB at the end (${result.rss.ratio.toFixed(2)}×, limit ${s.rssLimit}×): ${result.rss.pass === undefined ? 'not measured' : result.rss.pass ? 'PASS' : 'FAIL'}`)
    if (counts.refused) say(`requests refused: ${counts.refused}; ${counts.refusals.join('; ')}`)
    if (check.lost || result.rss.pass === false || counts.refused > 0) process.exitCode = 1
    failed = check.lost
  } finally {
    await closeAll(clients)
    await stack.stop()
    if (failed || process.exitCode) say(`logs of the stack kept in ${logs}`)
    else rmSync(dataDir, { recursive: true, force: true })
  }
}
