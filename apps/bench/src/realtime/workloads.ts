// The three workloads of the realtime bench, run the same way against each server. The clients live in the
// bench process; its CPU use is measured next to the server's so a reader can tell which one was the limit.
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { MessageSpans, Samples, SeenSet, nowMs, readStamp, stampText, type LatencySummary } from './latency.js'
import { cpuSeconds, rssKib } from './proc-stats.js'
import type { Connect, RoomClient } from './room-client.js'

/** W1 runs `rounds` times on each server, the servers taking turns (see realtime.ts), and pools every delivery. */
export const W1 = { receivers: 100, messages: 2_000, perSecond: 200, warmup: 100, rounds: 3 } as const
export const W2 = { seconds: 10, window: 64 } as const
export const W3 = { connections: 2_000, warmup: 20, concurrency: 50, deadlineMs: 60_000 } as const

export interface W1Result {
  latency: LatencySummary
  /** The sender's time from sending a message to its ack (the server stored and sequenced it). */
  ack: LatencySummary
  /** Per message, its first delivery's latency: the server's own path from the sender to the room. */
  first: LatencySummary
  /** Per message, its last delivery's latency minus its first: the fan-out to the room and the clients' reading. */
  spread: LatencySummary
  expected: number
  loss: number
  duplicates: number
  ackErrors: number
  /** p99 of the bench process's own event-loop delay during W1 (what the client side adds at most): the highest of the rounds. */
  clientLoopP99Ms: number
  /** Each round's own delivery p99, in the order run. */
  roundsP99: number[]
}

/** W1's rounds on one server: `latency` and `ack` over every delivery of every round, counts summed. */
export class W1Pool {
  readonly latency = new Samples()
  readonly ack = new Samples()
  readonly first = new Samples()
  readonly spread = new Samples()
  readonly roundsP99: number[] = []
  expected = 0
  loss = 0
  duplicates = 0
  ackErrors = 0
  clientLoopP99Ms = 0

  result (): W1Result {
    return {
      latency: this.latency.summary(),
      ack: this.ack.summary(),
      first: this.first.summary(),
      spread: this.spread.summary(),
      expected: this.expected,
      loss: this.loss,
      duplicates: this.duplicates,
      ackErrors: this.ackErrors,
      clientLoopP99Ms: this.clientLoopP99Ms,
      roundsP99: [...this.roundsP99]
    }
  }
}

export interface W2Result {
  /** new_message frames received per second, all receivers together, during the flood. */
  deliveriesPerS: number
  /** Messages the server acknowledged per second. */
  ackedPerS: number
  acked: number
  /** Acked messages some receiver never got (summed over receivers), after the backlog drained. */
  loss: number
  duplicates: number
  sendErrors: number
  /** Receivers the server closed for good during the flood, with their close codes and reasons. */
  closed: string[]
  /** Server closes the receivers recovered from by reconnecting and rejoining with afterSeq (e.g. slow consumer). */
  resumes: string[]
  latency: LatencySummary
  /** CPU used during the flood, in % of one core. */
  clientCpu: number
  serverCpu: number
  helpersCpu: Record<string, number>
}

export interface W3Result {
  /** How many joined (fewer than W3.connections when the deadline passed first). */
  connections: number
  beforeKib: number | undefined
  afterKib: number | undefined
  kibPerConnection: number | undefined
  connectSeconds: number
}

type Progress = (message: string) => void

/** Polls `done` every `everyMs` until it holds (true) or `timeoutMs` passes (false). */
async function waitUntil (done: () => boolean, timeoutMs: number, everyMs = 20): Promise<boolean> {
  const deadline = performance.now() + timeoutMs
  while (!done()) {
    if (performance.now() > deadline) return false
    await sleep(everyMs)
  }
  return true
}

/** Calls `send(i)` for i < count at `perSecond`, on an absolute schedule (a late send does not slow the rest). */
async function paced (count: number, perSecond: number, send: (i: number) => void): Promise<void> {
  const start = performance.now()
  for (let i = 0; i < count; i++) {
    const wait = start + (i * 1000) / perSecond - performance.now()
    if (wait > 0) await sleep(wait)
    send(i)
  }
}

export interface ConnectOptions {
  concurrency: number
  /** Stop opening connections after this long (default 60 s). */
  deadlineMs?: number
  /** Past the deadline, return the clients that joined instead of failing. */
  partial?: boolean
  progress?: Progress
}

/**
 * Opens `users.length` connections, `concurrency` at a time, each joined to `room`. Fails (closing them all)
 * on the first refusal, or when they have not all joined by the deadline (unless `partial`).
 */
export async function connectJoined (connect: Connect, users: string[], room: string, opts: ConnectOptions): Promise<RoomClient[]> {
  const deadlineMs = opts.deadlineMs ?? 60_000
  const clients: RoomClient[] = []
  const joinedClients: RoomClient[] = []
  const started = performance.now()
  let next = 0
  let late = false
  try {
    await Promise.all(Array.from({ length: Math.min(opts.concurrency, users.length) }, async () => {
      while (next < users.length && !late) {
        if (performance.now() - started > deadlineMs) {
          late = true
          break
        }
        const client = await connect(users[next++]!)
        clients.push(client)
        await client.join(room)
        joinedClients.push(client)
        if (opts.progress && joinedClients.length % 500 === 0) opts.progress(`${joinedClients.length} joined after ${((performance.now() - started) / 1000).toFixed(1)} s`)
      }
    }))
    if (late && !opts.partial) throw new Error(`only ${joinedClients.length} of ${users.length} connections had joined ${room} after ${Math.round(deadlineMs / 1000)} s`)
  } catch (err) {
    await closeAll(clients)
    throw err
  }
  return joinedClients
}

export async function closeAll (clients: RoomClient[]): Promise<void> {
  await Promise.all(clients.map((c) => c.close().catch(() => {})))
}

/**
 * W3: idle connections joined to the room. RSS of the server before (after a warm-up with a few connections
 * that came and went) and after; each read is the lower of two, after a full GC where the server offers one.
 */
export async function idleConnections (connect: Connect, room: string, sender: RoomClient, pid: number | undefined, gc: (() => Promise<void>) | undefined, progress: Progress): Promise<W3Result> {
  const warm = await connectJoined(connect, Array.from({ length: W3.warmup }, (_v, i) => `warm-${i}`), room, { concurrency: W3.warmup })
  await Promise.all(Array.from({ length: 20 }, (_v, i) => sender.send(room, stampText('x', i, nowMs()))))
  await sleep(500)
  await closeAll(warm)

  const settledRss = async (settleMs: number): Promise<number | undefined> => {
    if (pid === undefined) return undefined
    const read = async (): Promise<number> => {
      await sleep(settleMs)
      await gc?.()
      await sleep(300)
      return rssKib(pid)
    }
    return Math.min(await read(), await read())
  }
  const beforeKib = await settledRss(1_000)
  const started = performance.now()
  const users = Array.from({ length: W3.connections }, (_v, i) => `idle-${String(i).padStart(4, '0')}`)
  const idle = await connectJoined(connect, users, room, { concurrency: W3.concurrency, deadlineMs: W3.deadlineMs, partial: true, progress })
  const connectSeconds = (performance.now() - started) / 1000
  try {
    if (idle.length < W3.connections) {
      // The server's memory then holds whatever it is still trying to send: not a per-connection figure.
      progress(`only ${idle.length} of ${W3.connections} connections joined within ${W3.deadlineMs / 1000} s`)
      return { connections: idle.length, beforeKib, afterKib: undefined, kibPerConnection: undefined, connectSeconds }
    }
    progress(`${W3.connections} connections joined in ${connectSeconds.toFixed(1)} s; letting the server settle`)
    const afterKib = await settledRss(2_000)
    const kibPerConnection = beforeKib !== undefined && afterKib !== undefined ? (afterKib - beforeKib) / W3.connections : undefined
    return { connections: idle.length, beforeKib, afterKib, kibPerConnection, connectSeconds }
  } finally {
    await closeAll(idle)
  }
}

/**
 * One round of W1: the sender posts W1.messages at W1.perSecond, each stamped with its send time; every receiver
 * times each delivery. The round's deliveries and acks join `pool`; the answer is the pool's result so far.
 */
export async function roomLatency (room: string, sender: RoomClient, receivers: RoomClient[], pool = new W1Pool()): Promise<W1Result> {
  const samples = new Samples()
  const spans = new MessageSpans(W1.messages)
  const seen = receivers.map(() => new SeenSet())
  let warm = 0
  receivers.forEach((r, k) => {
    const mine = seen[k]!
    r.onMessage = (m) => {
      const at = nowMs()
      const stamp = readStamp(m.text)
      if (stamp?.tag === 'm') {
        samples.add(at - stamp.sentAtMs)
        pool.latency.add(at - stamp.sentAtMs)
        spans.add(stamp.index, at - stamp.sentAtMs)
        mine.add(stamp.index)
      } else if (stamp?.tag === 'w') {
        warm++
      }
    }
  })
  let ackErrors = 0
  const acks: Array<Promise<unknown>> = []
  const post = (tag: string) => (i: number): void => {
    const sentAt = nowMs()
    acks.push(sender.send(room, stampText(tag, i, sentAt)).then(() => { if (tag === 'm') pool.ack.add(nowMs() - sentAt) }, () => { ackErrors++ }))
  }

  await paced(W1.warmup, W1.perSecond, post('w'))
  await waitUntil(() => warm >= W1.warmup * receivers.length, 5_000)
  if (warm === 0) throw new Error(`no receiver got any of the ${W1.warmup} warm-up messages: the room does not broadcast (${ackErrors} sends refused)`)

  const loop = monitorEventLoopDelay({ resolution: 1 })
  loop.enable()
  await paced(W1.messages, W1.perSecond, post('m'))
  const expected = W1.messages * receivers.length
  const received = (): number => seen.reduce((n, s) => n + s.size, 0)
  await waitUntil(() => received() >= expected, 5_000)
  loop.disable()
  await Promise.race([Promise.all(acks), sleep(5_000)])
  for (const r of receivers) r.onMessage = undefined
  pool.roundsP99.push(samples.summary().p99)
  spans.addTo(pool.first, pool.spread)
  pool.expected += expected
  pool.loss += expected - received()
  pool.duplicates += seen.reduce((n, s) => n + s.duplicates, 0)
  pool.ackErrors += ackErrors
  pool.clientLoopP99Ms = Math.max(pool.clientLoopP99Ms, loop.percentile(99) / 1e6)
  return pool.result()
}

/**
 * W2: the sender keeps W2.window un-acked messages outstanding for W2.seconds; receivers count deliveries.
 * After the flood the backlog drains (until nothing moves for 3 s, 30 s at most), then every receiver must
 * hold every message the server acked.
 */
export async function roomFlood (room: string, sender: RoomClient, receivers: RoomClient[], pid: number | undefined, helpers: Record<string, number | undefined>): Promise<W2Result> {
  const seen = receivers.map(() => new SeenSet())
  const acked = new SeenSet()
  const samples = new Samples()
  let windowEnd = Infinity
  let inWindow = 0
  let delivered = 0
  receivers.forEach((r, k) => {
    const mine = seen[k]!
    r.onMessage = (m) => {
      const at = performance.now()
      const stamp = readStamp(m.text)
      if (stamp?.tag !== 'f') return
      delivered++
      if (at <= windowEnd) inWindow++
      mine.add(stamp.index)
      samples.add(performance.timeOrigin + at - stamp.sentAtMs)
    }
  })

  let next = 0
  let outstanding = 0
  let sendErrors = 0
  let stopped = false
  let allAnswered: () => void = () => {}
  const answered = new Promise<void>((resolve) => { allAnswered = resolve })
  const pump = (): void => {
    while (!stopped && outstanding < W2.window) {
      const i = next++
      outstanding++
      let refused = false
      sender.send(room, stampText('f', i, nowMs())).then(() => { acked.add(i) }, () => { sendErrors++; refused = true }).finally(() => {
        outstanding--
        // After a refusal the next send waits a turn of the event loop: a closed socket refuses at once.
        if (stopped) {
          if (outstanding === 0) allAnswered()
        } else if (refused) {
          setImmediate(pump)
        } else {
          pump()
        }
      })
    }
  }

  const cpuSample = (): { client: number, server: number | undefined, helpers: Record<string, number | undefined> } => {
    const u = process.cpuUsage()
    const read = (p: number | undefined): number | undefined => { try { return p === undefined ? undefined : cpuSeconds(p) } catch { return undefined } }
    return { client: (u.user + u.system) / 1e6, server: read(pid), helpers: Object.fromEntries(Object.entries(helpers).map(([n, p]) => [n, read(p)])) }
  }
  const resumesBefore = new Map(receivers.map((r) => [r, r.resumes.length]))
  const cpu0 = cpuSample()
  const t0 = performance.now()
  windowEnd = t0 + W2.seconds * 1000
  pump()
  await sleep(W2.seconds * 1000)
  stopped = true
  const wallS = (performance.now() - t0) / 1000
  const cpu1 = cpuSample()
  if (outstanding === 0) allAnswered()
  await Promise.race([answered, sleep(10_000)])

  const missing = (): number => seen.reduce((n, s) => n + acked.missingFrom(s), 0)
  let last = -1
  let still = performance.now()
  await waitUntil(() => {
    if (delivered !== last) {
      last = delivered
      still = performance.now()
    }
    return missing() === 0 || performance.now() - still > 3_000
  }, 30_000, 200)
  for (const r of receivers) r.onMessage = undefined

  const pct = (a: number | undefined, b: number | undefined): number => a === undefined || b === undefined ? NaN : ((b - a) / wallS) * 100
  return {
    deliveriesPerS: inWindow / wallS,
    ackedPerS: acked.size / wallS,
    acked: acked.size,
    loss: missing(),
    duplicates: seen.reduce((n, s) => n + s.duplicates, 0),
    sendErrors,
    closed: receivers.filter((r) => r.closedBy !== undefined).map((r) => `${r.user}: ${r.closedBy!}`),
    resumes: receivers.flatMap((r) => r.resumes.slice(resumesBefore.get(r) ?? 0).map((why) => `${r.user}: ${why}`)),
    latency: samples.summary(),
    clientCpu: pct(cpu0.client, cpu1.client),
    serverCpu: pct(cpu0.server, cpu1.server),
    helpersCpu: Object.fromEntries(Object.keys(helpers).map((n) => [n, pct(cpu0.helpers[n], cpu1.helpers[n])]))
  }
}
