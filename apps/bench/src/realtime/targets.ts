// The three servers the realtime bench measures, each started fresh as its own process(es): the plain ws
// baseline, the socket.io baseline, and Skein's funnel with what /ws needs behind it (NATS, the model
// simulator, the openai-service) — or a funnel that is already running (BENCH_FUNNEL_URL).
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { signToken } from '@skein/kit'
import { ManagedProcess, NatsServer, freePort, httpAnswers, repoRoot, startServiceProcess, startSimulator, waitFor } from '@skein/stack'
import { jsonConnector, socketIoConnector, type Connect } from './room-client.js'
import { listeningPid } from './proc-stats.js'

export type TargetKey = 'ws' | 'socketio' | 'wsjs' | 'skein'
export const TARGET_NAMES: Record<TargetKey, string> = { ws: 'plain ws', socketio: 'socket.io 4.8', wsjs: 'plain ws + JetStream', skein: 'Skein funnel /ws' }

export interface Target {
  key: TargetKey
  name: string
  /** The server's base URL (http://host:port). */
  url: string
  connect: Connect
  /** The process whose RSS and CPU are measured (undefined: a remote funnel whose pid could not be found). */
  pid: number | undefined
  /** Forces a full garbage collection in that process, when it offers a way. */
  gc: (() => Promise<void>) | undefined
  /** The NATS a baseline stores its messages in (plain ws + JetStream). */
  natsUrl?: string
  /** What else runs on the server side (for the notes): name → pid. */
  helpers: Record<string, number | undefined>
  /** Where the server processes' output went. */
  logs: string | undefined
  stop: () => Promise<void>
}

const SECRET = 'bench-realtime-secret-0123456789abcdef'
const here = dirname(fileURLToPath(import.meta.url))
// Built, the servers are .js files; under the tests they are .ts, run with the same TypeScript loader.
const ext = extname(fileURLToPath(import.meta.url))
const loader = ext === '.ts' ? process.execArgv.filter((a) => a.startsWith('--import') && a.includes('typescript')) : []

const tokens = (secret: string): (user: string) => string => {
  const cache = new Map<string, string>()
  return (user) => {
    let t = cache.get(user)
    if (!t) cache.set(user, t = signToken(secret, user, 3_600).token)
    return t
  }
}

/**
 * A baseline server (ws-room-server or socketio-room-server) in its own Node process, with --expose-gc; for
 * `wsjs`, ws-room-server storing every message in a fresh NATS of its own (every write synced, as Skein's).
 */
export async function startBaseline (key: 'ws' | 'socketio' | 'wsjs'): Promise<Target> {
  const port = await freePort()
  const script = join(here, `${key === 'socketio' ? 'socketio-room-server' : 'ws-room-server'}${ext}`)
  const nats = key === 'wsjs' ? await NatsServer.start({ dataDir: join(mkdtempSync(join(tmpdir(), 'skein-bench-wsjs-')), 'nats') }) : undefined
  const proc = new ManagedProcess({
    name: TARGET_NAMES[key],
    command: process.execPath,
    args: [...loader, '--expose-gc', script],
    env: { PORT: String(port), HOST: '127.0.0.1', JWT_SECRET: SECRET, ...(nats ? { NATS_URL: nats.url } : {}) }
  })
  const stop = async (): Promise<void> => {
    await proc.stop()
    await nats?.stop()
  }
  const url = `http://127.0.0.1:${port}`
  try {
    await waitFor(() => httpAnswers(`${url}/health`, (s) => s === 200), { what: TARGET_NAMES[key], timeoutMs: 15_000, process: proc })
  } catch (err) {
    await stop()
    throw err
  }
  const token = tokens(SECRET)
  return {
    key,
    name: TARGET_NAMES[key],
    url,
    connect: key === 'socketio' ? socketIoConnector(url, token) : jsonConnector(`ws://127.0.0.1:${port}/ws`, token),
    pid: proc.pid,
    gc: async () => {
      const res = await fetch(`${url}/gc`)
      if (res.status !== 200) throw new Error(`${TARGET_NAMES[key]} /gc answered ${res.status}`)
      await res.arrayBuffer()
    },
    ...(nats ? { natsUrl: nats.url } : {}),
    helpers: nats ? { 'nats-server': nats.pid } : {},
    logs: undefined,
    stop
  }
}

/** The secret of a funnel the bench did not start: BENCH_JWT_SECRET, else the one `npm start` keeps. */
function externalSecret (): string {
  if (process.env.BENCH_JWT_SECRET) return process.env.BENCH_JWT_SECRET
  const file = join(repoRoot, '.data', 'jwt-secret')
  if (existsSync(file)) return readFileSync(file, 'utf8').trim()
  throw new Error('BENCH_FUNNEL_URL needs BENCH_JWT_SECRET (the JWT_SECRET of that stack)')
}

/** A funnel already running at BENCH_FUNNEL_URL (its pid from BENCH_FUNNEL_PID or from who listens on its port). */
export function externalFunnel (funnelUrl: string): Target {
  const url = new URL(funnelUrl)
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80))
  const pid = process.env.BENCH_FUNNEL_PID ? Number(process.env.BENCH_FUNNEL_PID) : listeningPid(port)
  const wsUrl = `${url.protocol === 'https:' ? 'wss' : 'ws'}://${url.host}/ws`
  return {
    key: 'skein',
    name: `${TARGET_NAMES.skein} (running at ${url.host})`,
    url: url.origin,
    connect: jsonConnector(wsUrl, tokens(externalSecret())),
    pid,
    gc: undefined,
    helpers: {},
    logs: undefined,
    stop: async () => {}
  }
}

/**
 * Skein's real funnel with a fresh NATS, the model simulator and the openai-service behind it; the funnel's
 * per-connection rate limit raised for the flood. Output of every process goes to files in a temp folder.
 */
export async function startSkein (): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), 'skein-bench-realtime-'))
  const logs = join(dir, 'logs')
  const stops: Array<() => Promise<void>> = []
  const stop = async (): Promise<void> => {
    for (const s of stops.reverse()) await s().catch(() => {})
    stops.length = 0
  }
  try {
    const nats = await NatsServer.start({ dataDir: join(dir, 'nats'), logFile: join(logs, 'nats.log') })
    stops.push(() => nats.stop())
    const sim = await startSimulator({ LOG_LEVEL: 'warn' })
    stops.push(sim.stop)
    const openai = await startServiceProcess({
      name: 'openai-service',
      entry: 'services/openai-service/dist/server.js',
      env: { NATS_URL: nats.url, OPENAI_BASE_URL: sim.url, OPENAI_API_KEY: 'sim', MODEL_BACKEND: 'simulator', JWT_SECRET: SECRET, LOG_LEVEL: 'warn' },
      logFile: join(logs, 'openai-service.log')
    })
    stops.push(openai.stop)
    const funnel = await startServiceProcess({
      name: 'funnel',
      entry: 'services/funnel/dist/server.js',
      ready: '/health/funnel',
      env: {
        NATS_URL: nats.url,
        OPENAI_SERVICE_URL: openai.url,
        // Not needed by /ws: nothing listens there.
        CHROMA_SERVICE_URL: `http://127.0.0.1:${await freePort()}`,
        JWT_SECRET: SECRET,
        // The edge's limits guard production from abuse; here one address opens thousands of sockets and
        // floods on purpose, as the baselines (which have none) are measured doing.
        WS_RATE_PER_S: '100000',
        WS_RATE_BURST: '100000',
        WS_MAX_SOCKETS_PER_USER: '100000',
        WS_MAX_SOCKETS_PER_ADDRESS: '100000',
        RATE_LIMIT_PER_MINUTE: '10000000',
        RATE_LIMIT_ANON_PER_MINUTE: '10000000',
        LOG_LEVEL: 'warn'
      },
      logFile: join(logs, 'funnel.log')
    })
    stops.push(funnel.stop)
    return {
      key: 'skein',
      name: TARGET_NAMES.skein,
      url: funnel.url,
      connect: jsonConnector(`ws://127.0.0.1:${funnel.port}/ws`, tokens(SECRET)),
      pid: funnel.proc.pid,
      gc: undefined,
      helpers: { 'nats-server': nats.pid, 'openai-service': openai.proc.pid },
      logs,
      stop
    }
  } catch (err) {
    await stop()
    throw err
  }
}
