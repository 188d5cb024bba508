import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { ManagedProcess } from './managed-process.js'
import { repoRoot } from './repo-root.js'
import { freePort, isListening, waitFor } from './wait.js'

export interface NatsServerOptions {
  /** Default: a free port. */
  port?: number
  host?: string
  /** JetStream's store directory. */
  dataDir: string
  logFile?: string
  timeoutMs?: number
  /** Serves NATS's monitoring endpoints (`/varz`, `/jsz`…) on this port. Default: none. */
  monitorPort?: number
  /** A node of a cluster: its name, the port its routes listen on, and the other nodes' route URLs. */
  cluster?: { name: string, serverName: string, port: number, routes: string[] }
}

/**
 * Finds the nats-server binary: NATS_SERVER_BIN, else the one `npm start`/`npm test` put in .tools/ when the
 * system's cannot sync every write (scripts/skein.mjs), else the system's (Debian installs it in /usr/sbin,
 * which is not on every PATH).
 */
export function natsServerBinary (): string {
  if (process.env.NATS_SERVER_BIN) return process.env.NATS_SERVER_BIN
  const tools = join(repoRoot, '.tools', 'nats-server', 'nats-server')
  if (existsSync(tools)) return tools
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/usr/local/bin', '/usr/bin'])) {
    const candidate = join(dir, 'nats-server')
    if (dir && existsSync(candidate)) return candidate
  }
  throw new Error('nats-server is not installed: run `apt-get install nats-server` (npm start and npm test do it for you), or set NATS_URL')
}

/** The installed nats-server's version, e.g. [2, 9, 10]. */
export function natsServerVersion (): [number, number, number] {
  const out = execFileSync(natsServerBinary(), ['--version'], { encoding: 'utf8' })
  const m = /v?(\d+)\.(\d+)\.(\d+)/.exec(out)
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [0, 0, 0]
}

/**
 * Whether this nats-server can be told to sync every JetStream write to disk before acknowledging it
 * (`sync_interval: always`, NATS 2.10 and later). Older servers sync every two minutes: an acknowledged
 * write survives a crash of the process, but may not survive a power loss of the machine.
 */
export function natsSyncsEveryWrite (version = natsServerVersion()): boolean {
  const [major, minor] = version
  return major > 2 || (major === 2 && minor >= 10)
}

/**
 * The version a running NATS server announces in its INFO line (the first thing it sends on a connection),
 * e.g. [2, 9, 25]; undefined when nothing there says INFO within the time allowed.
 */
export async function runningNatsVersion (url: string, timeoutMs = 2_000): Promise<[number, number, number] | undefined> {
  const u = new URL(url.split(',')[0]!.trim())
  return await new Promise((resolve) => {
    let seen = ''
    const socket = connect(Number(u.port || 4222), u.hostname)
    const done = (version?: [number, number, number]): void => {
      socket.destroy()
      resolve(version)
    }
    socket.setTimeout(timeoutMs, () => done())
    socket.on('error', () => done())
    socket.on('data', (chunk: Buffer) => {
      seen += chunk.toString('latin1')
      const end = seen.indexOf('\r\n')
      if (end === -1) return seen.length > 65_536 ? done() : undefined
      const m = /^INFO\s+.*"version":"v?(\d+)\.(\d+)\.(\d+)/.exec(seen.slice(0, end))
      done(m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined)
    })
  })
}

/**
 * What `npm start` says of a NATS it found already running: Skein did not start it, so its own settings
 * decide whether an acknowledged write survives a power loss. A server older than 2.10 certainly does not
 * sync every write.
 */
export function externalNatsNote (url: string, version: [number, number, number] | undefined): string {
  const which = version ? `nats-server ${version.join('.')}` : 'the NATS server'
  if (version && !natsSyncsEveryWrite(version)) {
    return `${which} at ${url} was already running and cannot sync every write to disk (2.10+ can): a power loss may lose the last two minutes of acknowledged messages. Stop it to let Skein start its own, or point NATS_URL at one run with sync_interval: always`
  }
  return `${which} at ${url} was already running: its own settings decide durability; run it with sync_interval: always to sync every write before its ack (docs/reliability.md)`
}

/** A nats-server with JetStream that this process started; it can be killed and restarted on the same port and store. */
export class NatsServer {
  readonly port: number
  readonly host: string
  readonly url: string
  /** Acknowledged writes are on disk before the ack (see natsSyncsEveryWrite). */
  readonly syncsEveryWrite = natsSyncsEveryWrite()
  private process: ManagedProcess | undefined

  private constructor (private readonly opts: NatsServerOptions, port: number) {
    this.port = port
    this.host = opts.host ?? '127.0.0.1'
    this.url = `nats://${this.host}:${port}`
  }

  static async start (opts: NatsServerOptions): Promise<NatsServer> {
    const server = new NatsServer(opts, opts.port ?? await freePort())
    await server.restart()
    return server
  }

  get pid (): number | undefined {
    return this.process?.pid
  }

  /** Starts the server (again) with the same port and store; resolves when it accepts connections. */
  async restart (): Promise<void> {
    mkdirSync(this.opts.dataDir, { recursive: true })
    // Every write synced to disk where the server can do it (2.10+); the flags below win for everything else.
    const config = join(this.opts.dataDir, 'skein-nats.conf')
    if (this.syncsEveryWrite) writeFileSync(config, `jetstream {\n  store_dir: ${JSON.stringify(this.opts.dataDir)}\n  sync_interval: always\n}\n`)
    const proc = new ManagedProcess({
      name: 'nats',
      command: natsServerBinary(),
      args: [
        // The file names the store (JetStream on); the command line may not name it again.
        ...(this.syncsEveryWrite ? ['-c', config] : ['-js', '-sd', this.opts.dataDir]),
        '-a', this.host, '-p', String(this.port),
        ...(this.opts.monitorPort ? ['-m', String(this.opts.monitorPort)] : []),
        ...(this.opts.cluster
          ? ['--server_name', this.opts.cluster.serverName, '--cluster_name', this.opts.cluster.name, '--cluster', `nats://${this.host}:${this.opts.cluster.port}`, '--routes', this.opts.cluster.routes.join(',')]
          : ['-n', `skein-${this.port}`])
      ],
      ...(this.opts.logFile ? { logFile: this.opts.logFile } : {})
    })
    this.process = proc
    await waitFor(() => isListening(this.port, this.host), {
      what: `nats-server on ${this.host}:${this.port}`,
      timeoutMs: this.opts.timeoutMs ?? 15_000,
      process: proc
    })
  }

  /** Graceful stop. */
  async stop (): Promise<void> {
    await this.process?.stop()
  }

  /** SIGKILL, as a crash. */
  async kill (): Promise<void> {
    await this.process?.kill()
  }
}

/**
 * A NATS cluster of `size` nodes on loopback ports, JetStream on each, every node routed to the others. `url`
 * lists every node, as services take it (NATS_URL); `nodes[i]` can be killed and restarted on its ports.
 */
export class NatsCluster {
  private constructor (readonly nodes: NatsServer[]) {}

  get url (): string {
    return this.nodes.map((n) => n.url).join(',')
  }

  static async start (opts: { dataDir: string, size?: number, name?: string, logDir?: string }): Promise<NatsCluster> {
    const size = opts.size ?? 3
    const name = opts.name ?? 'skein'
    const clientPorts = await Promise.all(Array.from({ length: size }, () => freePort()))
    const routePorts = await Promise.all(Array.from({ length: size }, () => freePort()))
    const nodes = await Promise.all(clientPorts.map((port, i) => NatsServer.start({
      port,
      dataDir: join(opts.dataDir, `node-${i + 1}`),
      ...(opts.logDir ? { logFile: join(opts.logDir, `nats-${i + 1}.log`) } : {}),
      cluster: { name, serverName: `${name}-${i + 1}`, port: routePorts[i]!, routes: routePorts.filter((_p, k) => k !== i).map((p) => `nats://127.0.0.1:${p}`) }
    })))
    return new NatsCluster(nodes)
  }

  async stop (): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()))
  }
}
