import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ChromaServer } from './chroma-server.js'
import { ManagedProcess } from './managed-process.js'
import { NatsServer } from './nats-server.js'
import { repoRoot } from './repo-root.js'
import { freePort, httpAnswers, isListening, waitFor } from './wait.js'

export { repoRoot }

export interface StackPorts {
  funnel: number
  openai: number
  chroma: number
  web: number
  /** The Chroma server itself. */
  chromadb: number
  simulator: number
}

export const DEFAULT_PORTS: StackPorts = { funnel: 5000, openai: 8001, chroma: 8002, web: 3000, chromadb: 8000, simulator: 8090 }

export interface StackOptions {
  /** Where NATS, Chroma and logs keep their files. */
  dataDir: string
  ports: StackPorts
  /** Use this NATS when it answers; otherwise a nats-server is started (on this URL's port when it is local). */
  natsUrl?: string
  /** Use this Chroma server instead of starting one. */
  chromaUrl?: string
  /** With a key or a base URL the real backend is used; with neither (and no models file), the bundled simulator. */
  openaiApiKey?: string
  openaiBaseUrl?: string
  /**
   * A models file (MODELS_CONFIG), given to the openai-service and the chroma-service alike: its backends answer
   * (a key or base URL given too replaces its first backend's, as in the services) and the simulator is not
   * started. Default: MODELS_CONFIG in `env`; a MODELS_CONFIG of the calling process does not reach the services.
   */
  modelsConfig?: string
  /** Extra environment for every service (e.g. LOG_LEVEL, limits). */
  env?: Record<string, string>
  /** Start the web app on ports.web (default true). */
  web?: boolean
  /** Restart a service when its built files change (`npm run dev`). */
  watch?: boolean
  /** Progress lines while the stack comes up. */
  onProgress?: (message: string) => void
  timeoutMs?: number
}

export interface StackPart {
  name: string
  url: string
  /** Who runs it: "started" by this stack, or "external" (already running, or given by URL). */
  origin: 'started' | 'external'
  pid?: number
}

export interface RunningStack {
  parts: StackPart[]
  /** The secret tokens are signed with (tests sign their own). */
  jwtSecret: string
  funnelUrl: string
  /**
   * What answers model calls: the bundled simulator, the configured OpenAI-compatible backend, or the backends a
   * models file names (`url` is then the file's path).
   */
  modelBackend: { kind: 'simulator' | 'openai-compatible' | 'models-file', url: string }
  nats?: NatsServer
  chroma?: ChromaServer
  services: Map<string, ManagedProcess>
  /** Stops everything this stack started (in reverse order), and only that. */
  stop: () => Promise<void>
}

const SERVICES = ['openai-service', 'chroma-service', 'funnel'] as const
type ServiceName = (typeof SERVICES)[number] | 'model-simulator' | 'web'

function serverEntry (name: ServiceName): string {
  return name === 'web' ? join(repoRoot, 'apps', 'web', 'server.mjs') : join(repoRoot, 'services', name, 'dist', 'server.js')
}

/**
 * Node flags a service runs with, wherever it is started (here, `startServiceProcess`, the funnel's `npm
 * start`, its NODE_OPTIONS in docker-compose.yml). The funnel holds thousands of mostly idle sockets and makes
 * short-lived garbage: a young generation of 4 MiB semi-spaces (V8's default grows to 16 MiB) keeps a few MiB
 * instead of tens resident after a burst, at no throughput cost we could measure (docs/benchmarks.md, realtime).
 */
export const NODE_FLAGS: Readonly<Record<string, readonly string[]>> = {
  funnel: ['--max-semi-space-size=4']
}

/** The flags of the service whose entry script is `entry` ("services/funnel/dist/server.js"). */
export function nodeFlagsFor (entry: string): string[] {
  const name = /services\/([^/]+)\//.exec(entry)?.[1]
  return [...(name ? NODE_FLAGS[name] ?? [] : [])]
}

async function natsAnswers (url: string): Promise<boolean> {
  const u = new URL(url.split(',')[0]!.trim())
  return await isListening(Number(u.port || 4222), u.hostname)
}

/** The local stack's token secret: JWT_SECRET when given, else one made once and kept in the data dir. */
export function stackSecret (dataDir: string, given?: string): string {
  if (given) return given
  const file = join(dataDir, 'jwt-secret')
  if (existsSync(file)) return readFileSync(file, 'utf8').trim()
  mkdirSync(dataDir, { recursive: true })
  const secret = randomBytes(32).toString('hex')
  writeFileSync(file, secret, { mode: 0o600 })
  return secret
}

/** Starts the local stack exactly as `npm start` does, and waits until the funnel's `/health` is green. */
export async function startStack (opts: StackOptions): Promise<RunningStack> {
  const progress = opts.onProgress ?? (() => {})
  const timeoutMs = opts.timeoutMs ?? 120_000
  const logs = join(opts.dataDir, 'logs')
  const parts: StackPart[] = []
  const started: Array<{ stop: () => Promise<void> }> = []
  const services = new Map<string, ManagedProcess>()
  const host = '127.0.0.1'
  const jwtSecret = stackSecret(opts.dataDir, opts.env?.JWT_SECRET)

  const stop = async (): Promise<void> => {
    for (const s of started.reverse()) await s.stop().catch(() => {})
    started.length = 0
  }

  try {
    // NATS: the given (or default) URL when it answers, otherwise our own nats-server.
    let nats: NatsServer | undefined
    let natsUrl = opts.natsUrl ?? 'nats://127.0.0.1:4222'
    if (await natsAnswers(natsUrl)) {
      parts.push({ name: 'nats', url: natsUrl, origin: 'external' })
    } else {
      const u = new URL(natsUrl.split(',')[0]!.trim())
      const local = u.hostname === '127.0.0.1' || u.hostname === 'localhost'
      progress('starting nats-server with JetStream')
      nats = await NatsServer.start({ dataDir: join(opts.dataDir, 'nats'), logFile: join(logs, 'nats.log'), ...(local ? { port: Number(u.port || 4222) } : {}) })
      started.push(nats)
      natsUrl = nats.url
      parts.push({ name: 'nats', url: natsUrl, origin: 'started', ...(nats.pid ? { pid: nats.pid } : {}) })
    }

    // Chroma: CHROMA_URL when given, otherwise the chromadb package's own server.
    let chroma: ChromaServer | undefined
    let chromaUrl = opts.chromaUrl
    if (chromaUrl) {
      parts.push({ name: 'chromadb', url: chromaUrl, origin: 'external' })
    } else {
      progress('starting Chroma (chromadb npm package)')
      chroma = await ChromaServer.start({ port: opts.ports.chromadb, dataDir: join(opts.dataDir, 'chroma'), logFile: join(logs, 'chromadb.log') })
      started.push(chroma)
      chromaUrl = chroma.url
      parts.push({ name: 'chromadb', url: chromaUrl, origin: 'started', ...(chroma.pid ? { pid: chroma.pid } : {}) })
    }

    const launch = async (name: ServiceName, port: number, env: Record<string, string>, ready = '/health'): Promise<string> => {
      progress(`starting ${name}`)
      const url = `http://${host}:${port}`
      const proc = new ManagedProcess({
        name,
        command: process.execPath,
        args: [...nodeFlagsFor(serverEntry(name)), ...(opts.watch ? ['--watch'] : []), serverEntry(name)],
        env: { LOG_LEVEL: 'info', ...opts.env, ...env, HOST: host, PORT: String(port), NATS_URL: natsUrl, JWT_SECRET: jwtSecret, AUTH_DEV_LOGIN: opts.env?.AUTH_DEV_LOGIN ?? 'true' },
        logFile: join(logs, `${name}.log`)
      })
      started.push(proc)
      services.set(name, proc)
      await waitFor(() => httpAnswers(url + ready), { what: `${name} on ${url}`, timeoutMs, process: proc })
      parts.push({ name, url, origin: 'started', ...(proc.pid ? { pid: proc.pid } : {}) })
      return url
    }

    // The model backend: a models file's backends, a real one when configured, the bundled simulator otherwise.
    // Both services that call models get the same environment for them: the openai-service, and the
    // chroma-service, which embeds with the model and backend it names.
    const modelsFile = opts.modelsConfig || opts.env?.MODELS_CONFIG
    const modelEnv: Record<string, string> = { MODELS_CONFIG: modelsFile ? resolve(modelsFile) : '' }
    let modelBackend: RunningStack['modelBackend']
    if (modelsFile) {
      modelBackend = { kind: 'models-file', url: modelEnv.MODELS_CONFIG! }
      if (opts.openaiBaseUrl) modelEnv.OPENAI_BASE_URL = opts.openaiBaseUrl
      if (opts.openaiApiKey) modelEnv.OPENAI_API_KEY = opts.openaiApiKey
    } else {
      if (opts.openaiApiKey || opts.openaiBaseUrl) {
        modelBackend = { kind: 'openai-compatible', url: opts.openaiBaseUrl ?? 'https://api.openai.com/v1' }
      } else {
        const url = await launch('model-simulator', opts.ports.simulator, {}, '/v1/models')
        modelBackend = { kind: 'simulator', url: `${url}/v1` }
      }
      modelEnv.OPENAI_BASE_URL = modelBackend.url
      modelEnv.OPENAI_API_KEY = opts.openaiApiKey ?? 'simulator'
      if (modelBackend.kind === 'simulator') modelEnv.MODEL_BACKEND = 'simulator'
    }

    const openaiUrl = await launch('openai-service', opts.ports.openai, modelEnv)
    const chromaServiceUrl = await launch('chroma-service', opts.ports.chroma, { ...modelEnv, CHROMA_URL: chromaUrl })
    const webOrigins = `http://127.0.0.1:${opts.ports.web},http://localhost:${opts.ports.web}`
    const funnelUrl = await launch('funnel', opts.ports.funnel, { CORS_ORIGINS: webOrigins, ...opts.env, OPENAI_SERVICE_URL: openaiUrl, CHROMA_SERVICE_URL: chromaServiceUrl })
    if (opts.web !== false) await launch('web', opts.ports.web, { FUNNEL_URL: `http://${host}:${opts.ports.funnel}` }, '/')

    progress('waiting for the funnel to report every part healthy')
    await waitFor(() => httpAnswers(`${funnelUrl}/health`, (s) => s === 200), {
      what: `${funnelUrl}/health`,
      timeoutMs,
      intervalMs: 250
    })

    return {
      parts,
      jwtSecret,
      funnelUrl,
      modelBackend,
      ...(nats ? { nats } : {}),
      ...(chroma ? { chroma } : {}),
      services,
      stop
    }
  } catch (err) {
    await stop()
    throw err
  }
}

/** Every port free, for tests that run while a stack is up on the default ports. */
export async function freePorts (): Promise<StackPorts> {
  return {
    funnel: await freePort(),
    openai: await freePort(),
    chroma: await freePort(),
    web: await freePort(),
    chromadb: await freePort(),
    simulator: await freePort()
  }
}
