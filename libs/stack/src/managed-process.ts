import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs'
import { dirname } from 'node:path'

export interface ManagedProcessOptions {
  /** Short name used in errors and the status table, e.g. "funnel". */
  name: string
  command: string
  args: string[]
  env?: Record<string, string | undefined>
  cwd?: string
  /** Output goes to this file (appended); without it, only the last lines are kept for error messages. */
  logFile?: string
}

const TAIL_LINES = 40
const running = new Set<ManagedProcess>()

// A parent that exits abruptly still takes its children with it.
process.once('exit', () => {
  for (const p of running) p.child.kill('SIGKILL')
})

/** A child process the stack started and will stop: output captured, exit observed, stop bounded in time. */
export class ManagedProcess {
  readonly name: string
  readonly child: ChildProcess
  readonly exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
  private readonly tail: string[] = []
  private readonly log: WriteStream | undefined
  private exitInfo: { code: number | null, signal: NodeJS.Signals | null } | undefined

  constructor (opts: ManagedProcessOptions) {
    this.name = opts.name
    if (opts.logFile) {
      mkdirSync(dirname(opts.logFile), { recursive: true })
      this.log = createWriteStream(opts.logFile, { flags: 'a' })
    }
    this.child = spawn(opts.command, opts.args, {
      cwd: opts.cwd,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    const keep = (chunk: Buffer): void => {
      this.log?.write(chunk)
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() === '') continue
        this.tail.push(line)
        if (this.tail.length > TAIL_LINES) this.tail.shift()
      }
    }
    this.child.stdout?.on('data', keep)
    this.child.stderr?.on('data', keep)
    running.add(this)
    this.exited = new Promise((resolve) => {
      const done = (code: number | null, signal: NodeJS.Signals | null): void => {
        running.delete(this)
        this.exitInfo = { code, signal }
        this.log?.end()
        resolve(this.exitInfo)
      }
      this.child.once('exit', done)
      this.child.once('error', (err) => {
        this.tail.push(`could not start ${opts.command}: ${err.message}`)
        done(127, null)
      })
    })
  }

  get pid (): number | undefined {
    return this.child.pid
  }

  get hasExited (): boolean {
    return this.exitInfo !== undefined
  }

  /** The last lines the process printed: what an error message should show. */
  output (): string {
    return this.tail.join('\n')
  }

  /** SIGTERM, then SIGKILL when it has not exited within `graceMs`. Resolves once it is gone. */
  async stop (graceMs = 5_000): Promise<void> {
    if (this.exitInfo) return
    this.child.kill('SIGTERM')
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs)
    await this.exited
    clearTimeout(timer)
  }

  /** Kills at once, as a crash would. */
  async kill (): Promise<void> {
    if (this.exitInfo) return
    this.child.kill('SIGKILL')
    await this.exited
  }
}
