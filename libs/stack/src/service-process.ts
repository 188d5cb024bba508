import { join } from 'node:path'
import { ManagedProcess } from './managed-process.js'
import { freePort, httpAnswers, waitFor } from './wait.js'
import { nodeFlagsFor, repoRoot } from './stack.js'

export interface ServiceProcessOptions {
  /** Name in errors, e.g. "model-simulator". */
  name: string
  /** The script, relative to the repository root, e.g. "services/model-simulator/dist/server.js". */
  entry: string
  env?: Record<string, string>
  /** Path that answers 200 once it is ready (default /health). */
  ready?: string
  timeoutMs?: number
  logFile?: string
  /** Default: a free port (give the old one to restart a process where clients expect it). */
  port?: number
}

export interface ServiceProcess {
  url: string
  port: number
  proc: ManagedProcess
  stop: () => Promise<void>
}

/** One Skein process (a service, the simulator) on a free loopback port, resolved once it is ready. */
export async function startServiceProcess (opts: ServiceProcessOptions): Promise<ServiceProcess> {
  const port = opts.port ?? await freePort()
  const proc = new ManagedProcess({
    name: opts.name,
    command: process.execPath,
    args: [...nodeFlagsFor(opts.entry), join(repoRoot, opts.entry)],
    env: { LOG_LEVEL: 'warn', HOST: '127.0.0.1', ...opts.env, PORT: String(port) },
    ...(opts.logFile ? { logFile: opts.logFile } : {})
  })
  const url = `http://127.0.0.1:${port}`
  try {
    await waitFor(() => httpAnswers(url + (opts.ready ?? '/health'), (s) => s === 200), { what: opts.name, timeoutMs: opts.timeoutMs ?? 30_000, process: proc })
  } catch (err) {
    await proc.stop()
    throw err
  }
  return { url, port, proc, stop: () => proc.stop() }
}

/** The model simulator as its own process, as `npm start` runs it; `url` is its base, `/v1` appended. */
export async function startSimulator (env: Record<string, string> = {}): Promise<ServiceProcess> {
  const s = await startServiceProcess({ name: 'model-simulator', entry: 'services/model-simulator/dist/server.js', env: { SIM_TOKENS_PER_SECOND: '0', ...env } })
  return { ...s, url: `${s.url}/v1` }
}
