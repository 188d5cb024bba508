import { createServer, Socket } from 'node:net'
import type { ManagedProcess } from './managed-process.js'

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** A port nobody listens on right now (the OS picks it). */
export async function freePort (host = '127.0.0.1'): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    server.listen(0, host, () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** True when something accepts TCP connections at host:port. */
export async function isListening (port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return await new Promise((resolve) => {
    const socket = new Socket()
    const done = (ok: boolean): void => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('error', () => done(false))
    socket.connect(port, host, () => done(true))
  })
}

export interface WaitOptions {
  /** What is being waited for, for the error message. */
  what: string
  timeoutMs: number
  /** Stop waiting as soon as this process exits, and show what it printed. */
  process?: ManagedProcess
  intervalMs?: number
}

/** Polls `probe` until it returns true; fails with a message that says what never came up and why. */
export async function waitFor (probe: () => Promise<boolean>, opts: WaitOptions): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs
  while (Date.now() < deadline) {
    if (opts.process?.hasExited) {
      throw new Error(`${opts.what}: the process exited before it was ready. Its last output:\n${opts.process.output()}`)
    }
    if (await probe().catch(() => false)) return
    await delay(opts.intervalMs ?? 100)
  }
  const output = opts.process ? ` Its last output:\n${opts.process.output()}` : ''
  throw new Error(`${opts.what} was not ready within ${Math.round(opts.timeoutMs / 1000)} s.${output}`)
}

/** True when GET url answers with a status accepted by `ok` (default: any answer at all). */
export async function httpAnswers (url: string, ok: (status: number) => boolean = () => true): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(1_000) })
  await res.arrayBuffer()
  return ok(res.status)
}
