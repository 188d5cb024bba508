import { test } from 'tap'
import type { LedgerCheck } from '../../src/soak/ledger.js'
import { renderSoakSection, type SoakResult } from '../../src/soak/section.js'
import { soakSettings } from '../../src/soak/settings.js'
import type { WindowStats } from '../../src/soak/trend.js'

const lat = (p50: number, p99: number): WindowStats['latency'] => ({ count: 100, p50, p99, max: p99 + 1 })
const window = (index: number, rssMib: number, p99: number): WindowStats => ({
  index,
  fromS: index < 0 ? -60 : index * 60,
  toS: index < 0 ? 0 : (index + 1) * 60,
  rssKib: { median: rssMib * 1024, max: rssMib * 1024 + 512, samples: 12 },
  latency: lat(5, p99),
  firstToken: lat(60, 120),
  ack: lat(6, 50),
  deliveriesPerS: 5_000,
  funnelCpu: 11,
  load: 7
})

const clean: LedgerCheck = {
  rooms: 21,
  events: 1000,
  expectedDeliveries: 99_000,
  delivered: 99_000,
  missing: 0,
  duplicates: 0,
  outOfOrder: 0,
  messages: { acked: 800, expectedDeliveries: 79_200, missing: 0 },
  answers: { requested: 20, streams: 20, complete: 20, incomplete: 0, mismatched: 0, tokenDeliveries: 120_000, finishReasons: { stop: 20 } },
  tasks: { created: 5, completed: 5, notCompleted: 0 },
  findings: [],
  lost: false
}

function result (over: Partial<SoakResult> = {}): SoakResult {
  const windows = [window(-1, 150, 90), ...Array.from({ length: 10 }, (_v, i) => window(i, 150 + i, 40 + i))]
  return {
    settings: soakSettings({}),
    machine: 'Node v20, 2 cores, 24 GiB, 2026-11-24',
    loadAtStart: 6.5,
    connectS: 5.2,
    connections: 2000,
    windows,
    rss: { startKib: 150 * 1024, endKib: 159 * 1024, maxKib: 159.5 * 1024, slopeKibPerMin: 1024, ratio: 159 / 150, pass: true },
    counts: { messages: 4400, llmRequests: 440, tasks: 22, acked: 4862, refused: 0, refusals: [] },
    check: clean,
    cpu: { funnel: 12.4, nats: 6 },
    clientLoopP99Ms: 40,
    closed: [],
    resumes: [],
    drainS: 4,
    taskSeconds: { count: 22, p50: 1.8, p99: 2.5, max: 2.6 },
    ...over
  }
}

test('a clean run: the settings, start against end, every window and three passes', async (t) => {
  const text = renderSoakSection(result())
  t.match(text, /^## Soak: 2,000 connections in 20 rooms for 10 minutes/)
  t.match(text, /Node v20, 2 cores, 24 GiB, 2026-11-24; load average 6\.5/)
  t.match(text, /WS_MAX_SOCKETS_PER_ADDRESS=2064/)
  t.match(text, /one per room every 1500 ms .*13\.3 messages\/s, ~1,320 deliveries\/s/)
  t.match(text, /\| RSS, median of the window's readings \(MiB\) \| \*\*150\.0\*\* \| \*\*159\.0\*\* \|/)
  t.match(text, /\| message delivery p50 \/ p99 \(ms\) \| \*\*5\.0 \/ 40\.0\*\* \| \*\*5\.0 \/ 49\.0\*\* \|/)
  t.match(text, /after the warm-up \(window 1, 0–60 s\) \| at the end \(window 10, 540–600 s\)/)
  t.equal(text.split('\n').filter((l) => /^\| (warm-up|\d+), /.test(l)).length, 11, 'the warm-up and ten windows')
  t.match(text, /\| nothing lost \| every owed delivery made exactly once.* \| \*\*PASS\*\* \|/)
  t.match(text, /\| every request acknowledged \| 0 of 4,862 refused \| \*\*PASS\*\* \|/)
  t.match(text, /\| funnel RSS at the end ≤ 1\.2× after the warm-up \| 150\.0 → 159\.0 MiB = 1\.06× \| \*\*PASS\*\* \|/)
  t.match(text, /This run delivered 3,000,000 frames/, 'ten windows of 60 s at 5,000/s')
  t.match(text, /SOAK_MINUTES=10 .* npm run bench -- soak/)
  t.notMatch(text, /Findings:/)
})

test('a run that lost something says what, fails, and lists the refusals and closes', async (t) => {
  const check: LedgerCheck = {
    ...clean,
    missing: 1,
    delivered: 98_999,
    lost: true,
    findings: ['soak-03-0042 never got new_message seq 1234 (m-abc from soak-03-0007) in room soak-x-03']
  }
  const text = renderSoakSection(result({
    check,
    rss: { startKib: 150 * 1024, endKib: 200 * 1024, maxKib: 201 * 1024, slopeKibPerMin: 5 * 1024, ratio: 200 / 150, pass: false },
    counts: { messages: 4400, llmRequests: 440, tasks: 22, acked: 4861, refused: 1, refusals: ['message in soak-x-01 by soak-01-0003: message was refused: FUNNEL_UNAVAILABLE: …'] },
    closed: ['soak-02-0001: 1006']
  }))
  t.match(text, /\*\*1 missing, 0 duplicated, 0 out of order\*\*/)
  t.match(text, /\| nothing lost \| something was lost.* \| \*\*FAIL\*\* \|/)
  t.match(text, /\| every request acknowledged \| 1 of 4,862 refused \| \*\*FAIL\*\* \|/)
  t.match(text, /= 1\.33× \| \*\*FAIL\*\* \|/)
  t.match(text, /Findings:\n- soak-03-0042 never got new_message seq 1234/)
  t.match(text, /Refused requests \(the first 1\):\n- message in soak-x-01 by soak-01-0003/)
  t.match(text, /Connections the server closed: soak-02-0001: 1006\./)
})
