import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { signToken } from '@skein/kit'
import { NatsServer, startServiceProcess, type ManagedProcess } from '@skein/stack'
import { machine, percentile, progress, writeSection } from './report.js'

const SECRET = 'bench-secret-0123456789abcdef0123456789'

/** One streamed chat completion, read to its end: how long it took and how many tokens came. */
async function stream (url: string, headers: Record<string, string>, n: number): Promise<{ ms: number, tokens: number }> {
  const started = performance.now()
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'skein-sim-1', stream: true, messages: [{ role: 'user', content: `Explain how rivers, glaciers and winds shape mountains and valleys over time (run ${n})` }] })
  })
  if (res.status !== 200) throw new Error(`${url} answered ${res.status}: ${await res.text()}`)
  const text = await res.text()
  const tokens = text.split('\n\n').filter((l) => l.includes('"content":"') && !l.includes('"content":""')).length
  if (!text.endsWith('data: [DONE]\n\n')) throw new Error('a stream did not finish')
  return { ms: performance.now() - started, tokens }
}

/** Clock ticks per second, the unit of /proc/<pid>/stat's CPU times (100 on Linux almost everywhere). */
function clockTicks (): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100
  } catch {
    return 100
  }
}

/** CPU time (user + system) a process has used so far, in ms, read from /proc/<pid>/stat. */
function cpuMs (pid: number, ticks: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // After "pid (comm) ": state is field 3, utime field 14, stime field 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 1000 / ticks
}

async function measure (concurrency: number, rounds: number, url: string, headers: Record<string, string>): Promise<{ perStream: number[], tokens: number }> {
  const perStream: number[] = []
  let tokens = 0
  for (let r = 0; r < rounds; r++) {
    const results = await Promise.all(Array.from({ length: concurrency }, (_v, i) => stream(url, headers, r * concurrency + i)))
    for (const x of results) {
      perStream.push(x.ms)
      tokens = x.tokens
    }
  }
  return { perStream, tokens }
}

/**
 * The time the openai-service adds per streamed token between the model backend (the unthrottled simulator)
 * and the client, at 1 and at 100 concurrent streams: the same streams read directly from the simulator and
 * through the openai-service, real processes over loopback.
 */
export async function streamOverhead (): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'skein-bench-'))
  const nats = await NatsServer.start({ dataDir })
  const procs: ManagedProcess[] = []
  const load = loadavg()[0] ?? 0
  try {
    progress('stream-overhead: starting NATS, the simulator (unthrottled) and the openai-service')
    const sim = await startServiceProcess({ name: 'model-simulator', entry: 'services/model-simulator/dist/server.js', env: { SIM_TOKENS_PER_SECOND: '0' } })
    procs.push(sim.proc)
    const svc = await startServiceProcess({
      name: 'openai-service',
      entry: 'services/openai-service/dist/server.js',
      env: { NATS_URL: nats.url, OPENAI_BASE_URL: `${sim.url}/v1`, OPENAI_API_KEY: 'bench', MODEL_BACKEND: 'simulator', JWT_SECRET: SECRET }
    })
    procs.push(svc.proc)
    const auth = { authorization: `Bearer ${signToken(SECRET, 'bench', 3600).token}` }
    const ticks = clockTicks()
    const pid = svc.proc.pid
    if (pid === undefined) throw new Error('the openai-service has no pid')

    const rows: string[] = []
    for (const [concurrency, rounds] of [[1, 200], [100, 6]] as const) {
      progress(`stream-overhead: ${rounds} round(s) of ${concurrency} concurrent stream(s), direct and through the service`)
      await measure(concurrency, 1, sim.url, {}) // warm-up
      await measure(concurrency, 1, svc.url, auth)
      const direct = await measure(concurrency, rounds, sim.url, {})
      const cpuBefore = cpuMs(pid, ticks)
      const via = await measure(concurrency, rounds, svc.url, auth)
      const cpuUsed = cpuMs(pid, ticks) - cpuBefore
      const tokens = direct.tokens
      if (via.tokens !== tokens) throw new Error(`the service streamed ${via.tokens} tokens per answer, the simulator ${tokens}`)
      const cpuPerToken = cpuUsed / (via.perStream.length * tokens)
      const d50 = percentile(direct.perStream, 50)
      const v50 = percentile(via.perStream, 50)
      const d99 = percentile(direct.perStream, 99)
      const v99 = percentile(via.perStream, 99)
      const added = (v50 - d50) / tokens
      rows.push(`| ${concurrency} | ${direct.perStream.length} | ${tokens} | ${d50.toFixed(1)} / ${d99.toFixed(1)} | ${v50.toFixed(1)} / ${v99.toFixed(1)} | **${(added * 1000).toFixed(0)} µs** | ${((v99 - d99) / tokens * 1000).toFixed(0)} µs | **${(cpuPerToken * 1000).toFixed(0)} µs** (${Math.round(cpuUsed)} ms for ${via.perStream.length * tokens} tokens) |`)
      progress(`stream-overhead: c=${concurrency}: ${(added * 1000).toFixed(0)} µs added per token (p50), ${(cpuPerToken * 1000).toFixed(0)} µs of service CPU per token`)
    }
    const cores = availableParallelism()
    writeSection('stream-overhead', `## Model layer: time the openai-service adds per streamed token

${machine()}. The model simulator streams unthrottled; each stream is one chat completion read to \`[DONE]\`,
once straight from the simulator and once through the openai-service (auth, validation, retry/timeout
wrapper, re-framing as SSE). Real processes over loopback, NATS running; the client, the simulator, the
openai-service and nats-server all share this machine's ${cores} cores (load average ${load.toFixed(1)} when the run
started: other work on the machine shared them too).

- "Added per token" = (median stream time through the service − median direct) / tokens per stream: the
  latency a client sees, per token.
- "Service CPU per token" = the CPU time (user + system, from \`/proc/<pid>/stat\`) the openai-service process
  used while it served those streams, divided by the tokens it streamed: its own cost, whatever the load.
  It counts all the service's work for the streams (auth, validation, the upstream request, SSE framing), at
  the ${Math.round(1000 / ticks)} ms resolution of the kernel's counters.
- With 1 stream at a time there is little contention, and the service handles one token while the simulator
  makes the next (on the other core), so the latency it adds per token can be below the CPU it spends per
  token. With 100 at once the row is
  **latency under contention**: ${cores} cores are shared by 100 client streams, the simulator and the service,
  so most of the added time per token is waiting for a CPU, not work the service does per token; compare it
  with the CPU column.
- p99 is taken over every stream measured (second column): 200 single streams, 600 streams in rounds of 100.

| concurrent streams | streams measured | tokens per stream | direct p50 / p99 (ms) | through service p50 / p99 (ms) | added per token (p50) | added per token (p99) | service CPU per token |
| --- | --- | --- | --- | --- | --- | --- | --- |
${rows.join('\n')}
`)
  } finally {
    for (const p of procs.reverse()) await p.stop()
    await nats.stop()
  }
}
