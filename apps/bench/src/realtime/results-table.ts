// The realtime section of docs/benchmarks.md: one row per server, then Skein's targets from issue 5 as
// ratios against the baselines, each PASS or FAIL.
import { availableParallelism } from 'node:os'
import type { W1Result, W2Result, W3Result } from './workloads.js'
import { W1, W2, W3 } from './workloads.js'

export interface TargetResult {
  name: string
  w1?: W1Result
  w2?: W2Result
  w3?: W3Result
  /** Why the rest was not measured. */
  error?: string
  /** The machine's highest 1-minute load average seen while this server was measured (others' work included). */
  load?: number
}

export interface RealtimeResults { ws?: TargetResult, socketio?: TargetResult, wsjs?: TargetResult, skein?: TargetResult }

export interface Verdict {
  goal: string
  measured: string
  /** undefined: a number it needs was not measured. */
  pass: boolean | undefined
}

/** The limits issue 5 sets for Skein's /ws. */
export const GOALS = { w1VsWs: 1.5, w2VsWs: 0.9, w3MaxKib: 16 } as const

export const ms = (x: number): string => Number.isNaN(x) ? '—' : x < 10 ? x.toFixed(2) : x.toFixed(1)
const int = (x: number): string => Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '—'
const ratio = (x: number): string => Number.isFinite(x) ? `${x.toFixed(2)}×` : '—'

/** Skein's five targets, against the plain ws and socket.io results of the same run. */
export function verdicts (r: RealtimeResults): Verdict[] {
  const ws = r.ws
  const sio = r.socketio
  const sk = r.skein
  const out: Verdict[] = []

  const skP99 = sk?.w1?.latency.p99
  const wsP99 = ws?.w1?.latency.p99
  const sioP99 = sio?.w1?.latency.p99
  if (skP99 !== undefined && wsP99 !== undefined) {
    const x = skP99 / wsP99
    out.push({ goal: `W1 p99 ≤ ${GOALS.w1VsWs} × plain ws`, measured: `${ms(skP99)} ms vs ${ms(wsP99)} ms = ${ratio(x)}`, pass: x <= GOALS.w1VsWs })
  } else out.push({ goal: `W1 p99 ≤ ${GOALS.w1VsWs} × plain ws`, measured: 'not measured', pass: undefined })
  if (skP99 !== undefined && sioP99 !== undefined) {
    out.push({ goal: 'W1 p99 below socket.io', measured: `${ms(skP99)} ms vs ${ms(sioP99)} ms = ${ratio(skP99 / sioP99)}`, pass: skP99 < sioP99 })
  } else out.push({ goal: 'W1 p99 below socket.io', measured: 'not measured', pass: undefined })

  const skRate = sk?.w2?.deliveriesPerS
  const wsRate = ws?.w2?.deliveriesPerS
  if (skRate !== undefined && wsRate !== undefined) {
    const x = skRate / wsRate
    out.push({ goal: `W2 deliveries/s ≥ ${GOALS.w2VsWs} × plain ws`, measured: `${int(skRate)}/s vs ${int(wsRate)}/s = ${ratio(x)}`, pass: x >= GOALS.w2VsWs })
  } else out.push({ goal: `W2 deliveries/s ≥ ${GOALS.w2VsWs} × plain ws`, measured: 'not measured', pass: undefined })
  const w2 = sk?.w2
  out.push(w2
    ? { goal: 'W2 zero loss', measured: `${int(w2.loss)} of ${int(w2.acked * W1.receivers)} acked deliveries missing`, pass: w2.loss === 0 }
    : { goal: 'W2 zero loss', measured: 'not measured', pass: undefined })

  const w3 = sk?.w3
  const w3Goal = `W3 ≤ ${GOALS.w3MaxKib} KiB per connection`
  if (w3 && w3.connections < W3.connections) {
    out.push({ goal: w3Goal, measured: `only ${int(w3.connections)} of ${int(W3.connections)} connections joined within ${W3.deadlineMs / 1000} s`, pass: false })
  } else if (w3?.kibPerConnection !== undefined) {
    out.push({ goal: w3Goal, measured: `${w3.kibPerConnection.toFixed(1)} KiB`, pass: w3.kibPerConnection <= GOALS.w3MaxKib })
  } else out.push({ goal: w3Goal, measured: 'not measured', pass: undefined })
  return out
}

/**
 * Skein against plain ws + JetStream, which stores every message as Skein does and does nothing else: what
 * storing first costs by itself, beside the issue's targets (not one of them). Undefined when either is missing.
 */
export function againstStored (r: RealtimeResults): string | undefined {
  const sk = r.skein
  const st = r.wsjs
  if (!sk?.w1 || !st?.w1) return undefined
  const w2 = sk.w2 && st.w2 ? `; W2 ${int(sk.w2.deliveriesPerS)}/s vs ${int(st.w2.deliveriesPerS)}/s = ${ratio(sk.w2.deliveriesPerS / st.w2.deliveriesPerS)}` : ''
  return `Skein against ${st.name} (the same plain ws server storing each message in JetStream, every write synced, and sending it once stored): W1 p99 ${ms(sk.w1.latency.p99)} ms vs ${ms(st.w1.latency.p99)} ms = ${ratio(sk.w1.latency.p99 / st.w1.latency.p99)}${w2}.`
}

function row (t: TargetResult): string {
  const w1 = t.w1
  const w2 = t.w2
  const w3 = t.w3
  const lossW1 = w1 ? `${int(w1.loss)}${w1.ackErrors ? ` (${w1.ackErrors} refused)` : ''}` : '—'
  const notes = w2 ? [w2.closed.length ? `${w2.closed.length} closed` : '', w2.resumes.length ? `${w2.resumes.length} resumes` : '', w2.duplicates ? `${int(w2.duplicates)} duplicates` : ''].filter(Boolean) : []
  const lossW2 = w2 ? `${int(w2.loss)}${notes.length ? ` (${notes.join(', ')})` : ''}` : '—'
  return `| ${t.name} | ${w1 ? ms(w1.latency.p50) : '—'} | ${w1 ? `**${ms(w1.latency.p99)}**` : '—'} | ${w1 ? ms(w1.latency.max) : '—'} | ${lossW1} | ` +
    `${w2 ? `**${int(w2.deliveriesPerS)}**` : '—'} | ${w2 ? int(w2.ackedPerS) : '—'} | ${w2 ? ms(w2.latency.p99) : '—'} | ${lossW2} | ` +
    `${w3?.kibPerConnection !== undefined ? `**${w3.kibPerConnection.toFixed(1)}**` : w3 && w3.connections < W3.connections ? `${int(w3.connections)} of ${int(W3.connections)} joined in ${W3.deadlineMs / 1000} s` : '—'} |`
}

function cpuNote (t: TargetResult): string | undefined {
  const w2 = t.w2
  if (!w2) return undefined
  const helpers = Object.entries(w2.helpersCpu).filter(([, v]) => Number.isFinite(v)).map(([n, v]) => `, ${n} ${v.toFixed(0)} %`).join('')
  return `${t.name}: bench client ${w2.clientCpu.toFixed(0)} %, server ${Number.isFinite(w2.serverCpu) ? `${w2.serverCpu.toFixed(0)} %` : 'not read'}${helpers}`
}

export function renderSection (r: RealtimeResults, machineLine: string): string {
  const targets = [r.ws, r.socketio, r.wsjs, r.skein].filter((t): t is TargetResult => t !== undefined)
  const stored = againstStored(r)
  const v = verdicts(r)
  const mark = (p: boolean | undefined): string => p === undefined ? '—' : p ? '**PASS**' : '**FAIL**'
  const failures = targets.filter((t) => t.error).map((t) => `- **${t.name} not fully measured**: ${t.error}`)
  const cpu = targets.map(cpuNote).filter((n): n is string => n !== undefined)
  const loop = targets.filter((t) => t.w1).map((t) => `${t.name} ${ms(t.w1!.clientLoopP99Ms)} ms`)
  const rounds = targets.filter((t) => t.w1).map((t) => `${t.name} ${t.w1!.roundsP99.map(ms).join(' / ')} ms`)
  const loads = targets.filter((t) => t.load !== undefined).map((t) => `${t.name} ${t.load!.toFixed(1)}`)
  const acks = targets.filter((t) => t.w1).map((t) => `${t.name} ${ms(t.w1!.ack.p50)} / ${ms(t.w1!.ack.p99)} ms`)
  const spans = targets.filter((t) => t.w1).map((t) => `${t.name} ${ms(t.w1!.first.p50)} / ${ms(t.w1!.first.p99)} then ${ms(t.w1!.spread.p50)} / ${ms(t.w1!.spread.p99)} ms`)
  const w3 = targets.filter((t) => t.w3?.beforeKib !== undefined && t.w3.afterKib !== undefined).map((t) => `${t.name} ${int(t.w3!.beforeKib!)} → ${int(t.w3!.afterKib!)} KiB`)
  return `## Realtime: room broadcast latency, flood throughput and memory per connection

${machineLine}. The same room workload, in one run, against three servers speaking the same protocol
(\`status\`, \`create_room\`, \`join_room\` → ack + \`room_joined\`, \`message\` → ack to the sender +
\`new_message\` to every other member, a JWT per connection): a plain \`ws\` room server and a socket.io 4.8
room server written in the bench (\`apps/bench/src/realtime/\`, each its own process), and Skein's real funnel
\`/ws\` (with NATS, the model simulator and the openai-service behind it). Beside them for W1 and W2 only, plain
ws + JetStream: the same plain ws server storing each message in a JetStream stream on a nats-server of its own
(every write synced, as Skein's) and sending it once stored, with the stream's seq. It is not one of the
issue's baselines; it shows what storing first costs by itself. The servers run side by side
for W1 and W2: W1 runs in ${W1.rounds} rounds, the servers taking turns (in another order each round), so that a noisy
spell of the machine falls on all of them alike; then each server's W2 in the same room. For W3 each server starts
again, fresh and alone. All clients run in the bench process over loopback; socket.io clients use the websocket
transport only; the JSON clients skip parsing \`presence\`/\`user_typing\` frames (the bench does not use them).

- **W1**: ${W1.receivers} receivers + 1 sender in one room; ${int(W1.messages)} messages of ~100 characters at ${W1.perSecond} msg/s
  (${int(W1.receivers * W1.perSecond)} deliveries/s) after ${W1.warmup} warm-up messages; latency = receipt time − the send time the
  message carries, per delivery; p50/p99/max over every delivery of the ${W1.rounds} rounds (${int(W1.messages * W1.receivers * W1.rounds)} deliveries).
- **W2**: the same room; the sender keeps ${W2.window} un-acked messages in flight for ${W2.seconds} s; deliveries/s counted at the
  receivers during those ${W2.seconds} s; loss = acked messages some receiver never got, after the backlog drained.
- **W3**: ${int(W3.connections)} connections that connect, join the room and stay idle; KiB per connection = Δ RSS of the
  server process (VmRSS) / ${int(W3.connections)}, each RSS the lower of two reads after a settle (and a forced full GC for the
  two baselines, started with --expose-gc; the funnel offers none, which can only count against it).

| server | W1 p50 (ms) | W1 p99 (ms) | W1 max (ms) | W1 loss | W2 deliveries/s | W2 acked msg/s | W2 p99 (ms) | W2 loss | W3 KiB / connection |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
${targets.map(row).join('\n')}

Skein's targets (issue 5):

| target | measured | result |
| --- | --- | --- |
${v.map((x) => `| ${x.goal} | ${x.measured} | ${mark(x.pass)} |`).join('\n')}
${stored ? `\n${stored}\n` : ''}
${failures.length ? `${failures.join('\n')}\n\n` : ''}Where the time goes: CPU during the W2 flood, in % of one core — ${cpu.length ? cpu.join('; ') : 'not measured'}.
W1 p99 of each round, in the order run: ${rounds.length ? rounds.join(', ') : 'not measured'}.
W1's sender, send → ack p50 / p99 (the server stored and sequenced the message): ${acks.length ? acks.join(', ') : 'not measured'}.
W1 per message, its first delivery p50 / p99 (the server's own path from the sender to the room), then the spread to its last
delivery p50 / p99 (the fan-out to ${W1.receivers} sockets and the clients' reading): ${spans.length ? spans.join(', ') : 'not measured'}.
The bench process's own event-loop delay p99 during W1 (what the client side can add to a latency): ${loop.length ? loop.join(', ') : 'not measured'}.
W3 RSS before → after: ${w3.length ? w3.join(', ') : 'not measured'}.
The machine's highest 1-minute load average while each server was measured, on ${availableParallelism()} cores (the bench's own
processes make up to about 2 of it; more means other work shared the CPU and the numbers are noisy): ${loads.length ? loads.join(', ') : 'not read'}.
For comparison, issue 5 measured the stacks people glue on today (Flask-SocketIO and a Python Socket.IO bridge) on
the same machine: room broadcast p99 of 139 ms and 287 ms at 20,000 deliveries/s, and 73 KiB / 33 KiB per idle connection.
`
}
