import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { signToken } from '@skein/kit'
import { NatsServer, startServiceProcess, type ManagedProcess } from '@skein/stack'
import { machine, percentile, progress, writeSection } from './report.js'

const SECRET = 'bench-secret-0123456789abcdef0123456789'

interface Thread { id: string, status: string, children: string[] }

/**
 * How long a 10-step task takes end to end on the unthrottled simulator, and how many lifecycle events per
 * second the engine sustains under many concurrent tasks. Real processes: NATS, simulator, openai-service.
 */
export async function threadsEngine (): Promise<void> {
  const nats = await NatsServer.start({ dataDir: mkdtempSync(join(tmpdir(), 'skein-bench-threads-')) })
  const procs: ManagedProcess[] = []
  try {
    progress('threads: starting NATS, the simulator (unthrottled) and the openai-service')
    const start = async (name: string, entry: string, env: Record<string, string>): Promise<string> => {
      const service = await startServiceProcess({ name, entry, env })
      procs.push(service.proc)
      return service.url
    }
    const sim = await start('model-simulator', 'services/model-simulator/dist/server.js', { SIM_TOKENS_PER_SECOND: '0' })
    const workers = 8
    // A 10-step plan is over the default THREADS_MAX_CHILDREN (8): the benchmark raises it, and says so.
    const bounds = { THREADS_MAX_CHILDREN: '16', THREADS_MAX_PER_ROOT: '64' }
    const url = await start('openai-service', 'services/openai-service/dist/server.js', {
      NATS_URL: nats.url, OPENAI_BASE_URL: `${sim}/v1`, OPENAI_API_KEY: 'bench', MODEL_BACKEND: 'simulator', JWT_SECRET: SECRET,
      ...bounds, THREADS_WORKERS: String(workers)
    })
    const headers = { authorization: `Bearer ${signToken(SECRET, 'bench', 3600).token}`, 'content-type': 'application/json' }
    const task = async (text: string): Promise<Thread> => await (await fetch(`${url}/tasks`, { method: 'POST', headers, body: JSON.stringify({ task: text }) })).json() as Thread
    const finished = async (id: string): Promise<Thread> => {
      for (;;) {
        const r = await (await fetch(`${url}/threads/${id}`, { headers })).json() as Thread
        if (['completed', 'failed', 'cancelled'].includes(r.status)) return r
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
    }
    const tenSteps = (run: number): string => Array.from({ length: 10 }, (_v, i) => `${i + 1}. Summarise chapter ${i + 1} of field guide ${run} to coastal birds`).join('\n')

    progress('threads: 10-step tasks, one at a time')
    await finished((await task(tenSteps(0))).id) // warm-up
    const durations: number[] = []
    for (let i = 0; i < 7; i++) {
      const started = performance.now()
      const done = await finished((await task(tenSteps(i + 1))).id)
      if (done.status !== 'completed' || done.children.length !== 10) throw new Error(`a 10-step task ended ${done.status} with ${done.children.length} steps`)
      durations.push(performance.now() - started)
    }

    progress('threads: 20 concurrent 4-step tasks, counting lifecycle events')
    const js = await import('@nats-io/transport-node')
    const nc = await js.connect({ servers: nats.url })
    let events = 0
    let tokens = 0
    const sub = nc.subscribe('skein.thread.>', { callback: (_err, m) => { events++; if (m.subject.endsWith('.token')) tokens++ } })
    const burstStart = performance.now()
    const burst = await Promise.all(Array.from({ length: 20 }, (_v, i) => task(`1. Note the tides on day ${i}\n2. Note the winds on day ${i}\n3. Note the birds on day ${i}\n4. Combine the results of the notes`)))
    const results = await Promise.all(burst.map((b) => finished(b.id)))
    const burstMs = performance.now() - burstStart
    await nc.flush()
    sub.unsubscribe()
    await nc.close()
    if (!results.every((r) => r.status === 'completed')) throw new Error('a burst task did not complete')

    const p50 = percentile(durations, 50)
    writeSection('threads', `## Threads engine: a 10-step task end to end, and lifecycle events per second

${machine()}. Real processes over loopback: nats-server (JetStream, file storage), the model simulator
unthrottled, one openai-service with ${workers} workers (\`THREADS_WORKERS=${workers}\`) and
\`THREADS_MAX_CHILDREN=${bounds.THREADS_MAX_CHILDREN}\`, \`THREADS_MAX_PER_ROOT=${bounds.THREADS_MAX_PER_ROOT}\`: with the default
THREADS_MAX_CHILDREN of 8 a 10-step plan is refused at the bound. Times from \`POST /tasks\` to the task's record
reading \`completed\` (plan → 10 step threads in parallel → reports → final answer → closed).

| measure | result |
| --- | --- |
| 10-step task, end to end (p50 of ${durations.length}) | **${(p50 / 1000).toFixed(2)} s** (min ${(Math.min(...durations) / 1000).toFixed(2)} s, max ${(Math.max(...durations) / 1000).toFixed(2)} s) |
| 20 concurrent 4-step tasks, all completed | ${(burstMs / 1000).toFixed(2)} s |
| lifecycle events in that burst (all types) | ${events} (${tokens} of them tokens) |
| **events per second sustained** | **${Math.round(events / (burstMs / 1000))}/s** (${Math.round((events - tokens) / (burstMs / 1000))}/s not counting tokens) |
`)
    progress(`threads: 10-step task p50 ${(p50 / 1000).toFixed(2)} s; ${Math.round(events / (burstMs / 1000))} events/s`)
  } finally {
    for (const p of procs.reverse()) await p.stop()
    await nats.stop()
  }
}
