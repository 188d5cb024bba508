import { existsSync, mkdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { ManagedProcess } from './managed-process.js'
import { freePort, httpAnswers, waitFor } from './wait.js'

export interface ChromaServerOptions {
  /** Default: a free port. */
  port?: number
  host?: string
  /** Where Chroma keeps its data. */
  dataDir: string
  logFile?: string
  timeoutMs?: number
}

/** The `chroma` CLI of the chromadb npm package (it runs the server through its native binding). */
export function chromaCli (): string {
  const require = createRequire(import.meta.url)
  let dir = dirname(require.resolve('chromadb'))
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir)
  return join(dir, 'dist', 'cli.mjs')
}

/** A Chroma server this process started; it can be killed and restarted on the same port and data. */
export class ChromaServer {
  readonly port: number
  readonly host: string
  readonly url: string
  private process: ManagedProcess | undefined

  private constructor (private readonly opts: ChromaServerOptions, port: number) {
    this.port = port
    this.host = opts.host ?? '127.0.0.1'
    this.url = `http://${this.host}:${port}`
  }

  static async start (opts: ChromaServerOptions): Promise<ChromaServer> {
    const server = new ChromaServer(opts, opts.port ?? await freePort())
    await server.restart()
    return server
  }

  get pid (): number | undefined {
    return this.process?.pid
  }

  /** Starts the server (again); resolves when its heartbeat answers. */
  async restart (): Promise<void> {
    mkdirSync(this.opts.dataDir, { recursive: true })
    const proc = new ManagedProcess({
      name: 'chromadb',
      command: process.execPath,
      args: [chromaCli(), 'run', '--path', this.opts.dataDir, '--host', this.host, '--port', String(this.port)],
      ...(this.opts.logFile ? { logFile: this.opts.logFile } : {})
    })
    this.process = proc
    await waitFor(() => httpAnswers(`${this.url}/api/v2/heartbeat`, (s) => s === 200), {
      what: `Chroma on ${this.url}`,
      timeoutMs: this.opts.timeoutMs ?? 60_000,
      process: proc,
      intervalMs: 200
    })
  }

  async stop (): Promise<void> {
    await this.process?.stop()
  }

  async kill (): Promise<void> {
    await this.process?.kill()
  }
}
