#!/usr/bin/env node
// `npm run bench [-- name …]`: runs the named benchmarks (without a name, all but the soak) and rewrites their
// sections of docs/benchmarks.md.
import { memory } from './memory.js'
import { freshStart } from './fresh-start.js'
import { REPORT, written } from './report.js'
import { realtime } from './realtime.js'
import { soak } from './soak.js'
import { streamOverhead } from './stream-overhead.js'
import { threadsEngine } from './threads-engine.js'
import { webBundle } from './web-bundle.js'

const benchmarks: Record<string, () => Promise<void>> = {
  memory,
  realtime,
  soak,
  'fresh-start': freshStart,
  'stream-overhead': streamOverhead,
  threads: threadsEngine,
  'web-bundle': webBundle
}

// Stopped by a signal (kill, a CI timeout), the bench exits properly: on exit the stack's processes it
// started (NATS, Chroma, the services) are killed with it instead of being left running.
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.once(signal, () => {
    process.stderr.write(`✖ ${signal}: stopping the processes the bench started; the benchmark under way writes no results\n`)
    process.exit(code)
  })
}

const asked = process.argv.slice(2)
const unknown = asked.filter((n) => !(n in benchmarks))
if (unknown.length) {
  process.stderr.write(`✖ unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(benchmarks).join(', ')}\n`)
  process.exit(1)
}
// The soak takes a quarter of an hour: it runs only when named.
const ONLY_WHEN_NAMED = new Set(['soak'])
for (const name of asked.length ? asked : Object.keys(benchmarks).filter((n) => !ONLY_WHEN_NAMED.has(n))) {
  await benchmarks[name]!()
}
if (written.length) process.stdout.write(`▸ results (${written.join(', ')}) in ${REPORT}\n`)
