import { WebSocket } from 'ws'

export interface Frame { event: string, data: Record<string, unknown>, id?: string }

/** A real WebSocket client of the funnel's /ws, for tests and benchmarks: it records every frame it gets. */
export class WsClient {
  readonly frames: Frame[] = []
  private nextId = 0
  private waiters: Array<() => void> = []
  closed: { code: number, reason: string } | null = null

  private constructor (readonly socket: WebSocket) {
    socket.on('message', (raw) => {
      this.frames.push(JSON.parse(raw.toString()) as Frame)
      this.wake()
    })
    socket.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() }
      this.wake()
    })
  }

  private wake (): void {
    const waiting = this.waiters
    this.waiters = []
    for (const w of waiting) w()
  }

  /** Connects with a token (query string) and waits for the `status` frame. */
  static async connect (url: string, token: string, opts: { origin?: string, headers?: Record<string, string> } = {}): Promise<WsClient> {
    const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/ws?token=${encodeURIComponent(token)}`, { headers: opts.headers ?? {}, ...(opts.origin ? { origin: opts.origin } : {}) })
    const client = new WsClient(socket)
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve())
      socket.once('error', reject)
      socket.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`refused with ${res.statusCode}`), { statusCode: res.statusCode })))
    })
    await client.next((f) => f.event === 'status')
    return client
  }

  send (event: string, data: Record<string, unknown> = {}, id?: string): void {
    this.socket.send(JSON.stringify({ event, data, ...(id ? { id } : {}) }))
  }

  /** Sends a request with an id; resolves with the ack's data, rejects with the error's. */
  async request (event: string, data: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = `r${++this.nextId}`
    const from = this.frames.length
    this.send(event, data, id)
    const answer = await this.next((f) => f.id === id && (f.event === 'ack' || f.event === 'error'), 30_000, from)
    if (answer.event === 'error') throw Object.assign(new Error(String(answer.data.message)), answer.data)
    return answer.data
  }

  /** The first frame (from index `from`) that matches, waiting for it. */
  async next (match: (f: Frame) => boolean, timeoutMs = 30_000, from = 0): Promise<Frame> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const found = this.frames.slice(from).find(match)
      if (found) return found
      if (this.closed) throw new Error(`socket closed (${this.closed.code} ${this.closed.reason}) while waiting`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`timed out waiting for a frame; got ${this.frames.map((f) => f.event).join(',')}`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.waiters.push(() => { clearTimeout(timer); resolve() })
      })
    }
  }

  /** Waits until `cond` holds over all frames received. */
  async until (cond: (frames: Frame[]) => boolean, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!cond(this.frames)) {
      if (Date.now() > deadline) throw new Error(`timed out; got ${this.frames.length} frames: ${this.frames.slice(-5).map((f) => f.event).join(',')}`)
      if (this.closed) throw new Error(`socket closed (${this.closed.code} ${this.closed.reason})`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()))
        this.waiters.push(() => { clearTimeout(timer); resolve() })
      })
    }
  }

  of (event: string): Array<Record<string, unknown>> {
    return this.frames.filter((f) => f.event === event).map((f) => f.data)
  }

  async close (): Promise<void> {
    if (this.closed) return
    const done = new Promise<void>((resolve) => this.socket.once('close', () => resolve()))
    this.socket.close()
    await done
  }

  /** Drops the connection without a close handshake, as a lost network does. */
  drop (): void {
    this.socket.terminate()
  }
}
