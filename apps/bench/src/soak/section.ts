// The soak's section of docs/benchmarks.md: what ran, start against end, the trend, the totals and the verdicts.
import type { LatencySummary } from '../realtime/latency.js'
import type { LedgerCheck } from './ledger.js'
import type { LoadCounts } from './load.js'
import type { SoakSettings } from './settings.js'
import type { GrowthVerdict, WindowStats } from './trend.js'

export interface SoakResult {
  settings: SoakSettings
  machine: string
  loadAtStart: number
  connectS: number
  connections: number
  /** The warm-up first (index -1), then every measured window. */
  windows: WindowStats[]
  rss: GrowthVerdict & { startKib: number, endKib: number, maxKib: number, slopeKibPerMin: number }
  counts: LoadCounts
  check: LedgerCheck
  /** CPU over the measured span, in % of one core, per process. */
  cpu: Record<string, number>
  clientLoopP99Ms: number
  closed: string[]
  resumes: string[]
  drainS: number
  /** create_task → its `completed` in the main room, in seconds. */
  taskSeconds: LatencySummary
}

const n = (v: number): string => Math.round(v).toLocaleString('en-US')
const f1 = (v: number): string => (Number.isFinite(v) ? v.toFixed(1) : '–')
const mib = (kib: number): string => (Number.isFinite(kib) ? (kib / 1024).toFixed(1) : '–')
const verdict = (pass: boolean | undefined): string => (pass === undefined ? 'not measured' : pass ? '**PASS**' : '**FAIL**')
const pp = (l: LatencySummary): string => `${f1(l.p50)} / ${f1(l.p99)}`
const span = (w: WindowStats): string => (w.index < 0 ? `warm-up, ${Math.round(w.fromS)}–0 s` : `${w.index + 1}, ${Math.round(w.fromS)}–${Math.round(w.toS)} s`)

export function renderSoakSection (r: SoakResult): string {
  const s = r.settings
  const c = r.check
  const perRoom = Math.round(s.connections / s.rooms)
  const start = r.windows[1]!
  const end = r.windows[r.windows.length - 1]!
  const msgPerS = (s.rooms * 1000) / s.messageEveryMs
  const lines: string[] = []
  lines.push(`## Soak: ${n(s.connections)} connections in ${s.rooms} rooms for ${s.minutes} minute${s.minutes === 1 ? '' : 's'}`)
  lines.push('')
  lines.push(`${r.machine}; load average ${r.loadAtStart.toFixed(1)} when the run started; every part of the stack and the ${n(s.connections)} clients ran on these cores.`)
  lines.push('The whole stack, started by `libs/stack` (`startStack`) on free ports as `npm start` starts it: nats-server (JetStream), Chroma,')
  lines.push(`the model simulator streaming ${s.simTokensPerS} tokens/s, the openai-service (threads engine, \`THREADS_WORKERS\` at its default), the chroma-service`)
  lines.push('(indexing the thread messages into Chroma) and the funnel, logs at `warn`. The funnel runs with its defaults except')
  lines.push(`\`WS_MAX_SOCKETS_PER_ADDRESS=${s.connections + 64}\`: every client connects from 127.0.0.1. The clients are in the bench process, one`)
  lines.push('WebSocket each, one user each (its own JWT); `npm run bench -- soak`, not part of CI.')
  lines.push('')
  lines.push(`- **Connections**: ${n(r.connections)} in ${s.rooms} conversation rooms (${perRoom} members each), connected and joined in ${f1(r.connectS)} s;`)
  lines.push(`  the first member of each room also follows the main room (${s.rooms} watchers), where tasks report their lifecycle.`)
  lines.push(`- **Messages**: one per room every ${s.messageEveryMs} ms from its members in turn (${f1(msgPerS)} messages/s, ~${n(msgPerS * (perRoom - 1))} deliveries/s), ~100 characters stamped with their send time.`)
  lines.push(`- **Answers**: one \`llm_request\` per room every ${s.llmEveryS} s, the rooms taking turns (${f1(s.rooms / s.llmEveryS)}/s), each asking for ${s.answerWords} words; its \`llm_token\`s and \`llm_complete\` go to all ${perRoom} members.`)
  lines.push(`- **Tasks**: one \`create_task\` every ${s.taskEveryS} s, a two-item list (planned, two steps, a final answer), under the main thread.`)
  lines.push(`- **Time**: ${s.warmupS} s of warm-up under the same load, then ${s.minutes} min measured in ${r.windows.length - 1} window(s) of ${Math.round(s.windowMs / 1000)} s; the funnel's RSS (VmRSS) and CPU read every 5 s. After the load, a drain until every answer and task had finished everywhere and nothing moved for 3 s (${f1(r.drainS)} s).`)
  lines.push(`- Reproduce or vary: \`SOAK_MINUTES=${s.minutes} SOAK_WARMUP_S=${s.warmupS} SOAK_CONNECTIONS=${s.connections} SOAK_ROOMS=${s.rooms} SOAK_MESSAGE_EVERY_MS=${s.messageEveryMs} SOAK_LLM_EVERY_S=${s.llmEveryS} SOAK_TASK_EVERY_S=${s.taskEveryS} SOAK_ANSWER_WORDS=${s.answerWords} SIM_TOKENS_PER_SECOND=${s.simTokensPerS} npm run bench -- soak\`.`)
  lines.push('')
  lines.push(`| the funnel | after the warm-up (window ${span(start)}) | at the end (window ${span(end)}) |`)
  lines.push('| --- | --- | --- |')
  lines.push(`| RSS, median of the window's readings (MiB) | **${mib(start.rssKib.median)}** | **${mib(end.rssKib.median)}** |`)
  lines.push(`| message delivery p50 / p99 (ms) | **${pp(start.latency)}** | **${pp(end.latency)}** |`)
  lines.push(`| message send → ack p50 / p99 (ms) | ${pp(start.ack)} | ${pp(end.ack)} |`)
  lines.push(`| llm_request → first token p50 / p99 (ms) | ${pp(start.firstToken)} | ${pp(end.firstToken)} |`)
  lines.push(`| frames delivered per second (all clients) | ${n(start.deliveriesPerS)} | ${n(end.deliveriesPerS)} |`)
  lines.push(`| funnel CPU (% of one core) | ${f1(start.funnelCpu)} | ${f1(end.funnelCpu)} |`)
  lines.push(`| machine load average, highest | ${f1(start.load)} | ${f1(end.load)} |`)
  lines.push('')
  lines.push('| window | RSS median / max (MiB) | message p50 / p99 (ms) | first token p50 / p99 (ms) | deliveries/s | funnel CPU % | load |')
  lines.push('| --- | --- | --- | --- | --- | --- | --- |')
  for (const w of r.windows) {
    lines.push(`| ${span(w)} | ${mib(w.rssKib.median)} / ${mib(w.rssKib.max)} | ${pp(w.latency)} | ${pp(w.firstToken)} | ${n(w.deliveriesPerS)} | ${f1(w.funnelCpu)} | ${f1(w.load)} |`)
  }
  lines.push('')
  lines.push(`RSS over the measured span: least-squares slope ${f1(r.rss.slopeKibPerMin / 1024)} MiB/min, highest reading ${mib(r.rss.maxKib)} MiB.`)
  lines.push(`CPU over the measured span, % of one core: ${Object.entries(r.cpu).map(([name, v]) => `${name} ${v.toFixed(0)}`).join(', ')}. The bench process's event-loop delay p99: ${f1(r.clientLoopP99Ms)} ms.`)
  lines.push('')
  const reasons = Object.entries(c.answers.finishReasons).map(([k, v]) => `${k} ${n(v)}`).join(', ') || 'none'
  lines.push('| totals (warm-up, measured span and drain) | |')
  lines.push('| --- | --- |')
  lines.push(`| sent | ${n(r.counts.messages)} messages, ${n(r.counts.llmRequests)} llm_requests, ${n(r.counts.tasks)} tasks; ${n(r.counts.acked)} acknowledged, ${n(r.counts.refused)} refused |`)
  lines.push(`| sequenced events checked, all rooms | ${n(c.events)} events, ${n(c.expectedDeliveries)} deliveries owed: ${n(c.delivered)} made, **${n(c.missing)} missing, ${n(c.duplicates)} duplicated, ${n(c.outOfOrder)} out of order** |`)
  lines.push(`| acknowledged chat messages (prompts included) | ${n(c.messages.acked)}, owed to ${n(c.messages.expectedDeliveries)} members: **${n(c.messages.missing)} missing** |`)
  lines.push(`| streamed answers | ${n(c.answers.requested)} requested, ${n(c.answers.streams)} streamed; ${n(c.answers.complete)} ended with \`llm_complete\` at every member, ${n(c.answers.incomplete)} did not; **${n(c.answers.mismatched)}** where a member's tokens did not make the text; ${n(c.answers.tokenDeliveries)} token deliveries assembled; finish reasons: ${reasons} |`)
  lines.push(`| tasks | ${n(c.tasks.created)} created, **${n(c.tasks.completed)} completed and closed** at every main-room watcher, ${n(c.tasks.notCompleted)} not; create → completed p50 / p99 ${f1(r.taskSeconds.p50)} / ${f1(r.taskSeconds.p99)} s |`)
  lines.push(`| connections | ${n(r.closed.length)} closed by the server, ${n(r.resumes.length)} resumed after a server close |`)
  lines.push('')
  const lostText = c.lost ? 'something was lost, doubled, reordered or left unfinished (below)' : `every owed delivery made exactly once, in seq order; every answer's tokens make its text at all ${perRoom} members; every task completed`
  lines.push('| check | measured | result |')
  lines.push('| --- | --- | --- |')
  lines.push(`| nothing lost | ${lostText} | ${verdict(!c.lost)} |`)
  lines.push(`| every request acknowledged | ${n(r.counts.refused)} of ${n(r.counts.messages + r.counts.llmRequests + r.counts.tasks)} refused | ${verdict(r.counts.refused === 0)} |`)
  lines.push(`| funnel RSS at the end ≤ ${s.rssLimit}× after the warm-up | ${mib(r.rss.startKib)} → ${mib(r.rss.endKib)} MiB = ${Number.isFinite(r.rss.ratio) ? r.rss.ratio.toFixed(2) : '–'}× | ${verdict(r.rss.pass)} |`)
  lines.push('')
  lines.push(`How "nothing lost" is checked: every client counts what it receives by seq, per room. An event is owed to every member of its room`)
  lines.push('but the sender of a chat message (who gets the ack instead); an acknowledged message nobody received is still owed. A member that')
  lines.push('lacks an owed seq, has one twice or gets one after a later seq fails the check; so does an answer whose tokens, in index order, do')
  lines.push('not make its `llm_complete` text at some member, an answer that does not end at every member with finish reason `stop`, and a')
  lines.push('task that does not reach `completed` and `thread_closed` at every main-room watcher.')
  lines.push('')
  const frames = r.windows.slice(1).reduce((a, w) => a + (Number.isFinite(w.deliveriesPerS) ? w.deliveriesPerS * (w.toS - w.fromS) : 0), 0)
  const allowedBytes = ((s.rssLimit - 1) * r.rss.startKib * 1024) / frames
  lines.push(`Why ${s.rssLimit}× for memory: a leak tied to the traffic grows with it. This run delivered ${n(frames)} frames in its measured span, so a`)
  lines.push(`funnel that kept more than ${Number.isFinite(allowedBytes) ? allowedBytes.toFixed(1) : '–'} bytes for each frame it delivered (${Number.isFinite(allowedBytes) ? n(allowedBytes * perRoom) : '–'} bytes per event broadcast to a room of ${perRoom})`)
  lines.push(`would end above the limit; a leak per connection or per room would have shown in the warm-up already. The allowance is for what is`)
  lines.push('not a leak: V8 grows its heap lazily between major collections and the funnel offers no way to force one, so readings wander by')
  lines.push('a few MiB. Medians of each window\'s readings are compared, not single readings; the slope and the window table show whether the')
  lines.push('growth levels off.')
  if (c.findings.length) {
    lines.push('')
    lines.push('Findings:')
    for (const x of c.findings) lines.push(`- ${x}`)
  }
  if (r.counts.refusals.length) {
    lines.push('')
    lines.push(`Refused requests (the first ${r.counts.refusals.length}):`)
    for (const x of r.counts.refusals) lines.push(`- ${x}`)
  }
  if (r.closed.length || r.resumes.length) {
    lines.push('')
    lines.push(`Connections the server closed: ${[...r.closed, ...r.resumes].slice(0, 10).join('; ')}.`)
  }
  return lines.join('\n')
}
