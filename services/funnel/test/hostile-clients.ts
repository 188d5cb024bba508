import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { request as httpRequest, createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { connect, createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import Fastify from 'fastify'
import { WebSocket } from 'ws'
import { openapiPlugin } from '@skein/kit'

// Clients that do what browsers and fetch() will not: raw paths (no dot-segment clean-up), a chosen source
// address on the loopback (127.0.0.x: each test counts as its own "address"), hand-built WebSocket frames.

export interface Answer {
  status: number
  headers: IncomingHttpHeaders
  body: string
  json: () => { error?: { code: string, message: string } } & Record<string, unknown>
}

export interface RawRequest {
  method?: string
  /** Sent as is: nothing is normalised or encoded. */
  path: string
  headers?: Record<string, string>
  body?: string
  /** The source address, e.g. 127.0.0.7. */
  from?: string
}

/** One HTTP request on its own connection, the path untouched. */
export async function send (base: string, req: RawRequest): Promise<Answer> {
  const u = new URL(base)
  return await new Promise((resolve, reject) => {
    const r = httpRequest({
      host: u.hostname,
      port: u.port,
      method: req.method ?? 'GET',
      path: req.path,
      headers: { ...(req.body !== undefined ? { 'content-type': 'application/json' } : {}), ...req.headers },
      agent: false,
      ...(req.from ? { localAddress: req.from } : {})
    }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { body += c })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) as ReturnType<Answer['json']> }))
      res.on('error', reject)
    })
    r.on('error', reject)
    r.end(req.body)
  })
}

/** A WebSocket handshake with /ws: 101 and the open socket, or the refusal's status and body. */
export async function handshake (base: string, opts: { token?: string, from?: string, origin?: string } = {}): Promise<{ status: number, body: string, socket?: WebSocket }> {
  const url = `${base.replace(/^http/, 'ws')}/ws${opts.token ? `?token=${encodeURIComponent(opts.token)}` : ''}`
  return await new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { ...(opts.from ? { localAddress: opts.from } : {}), ...(opts.origin ? { origin: opts.origin } : {}) })
    ws.on('open', () => resolve({ status: 101, body: '', socket: ws }))
    ws.on('unexpected-response', (req, res) => {
      let body = ''
      const done = (): void => {
        resolve({ status: res.statusCode ?? 0, body })
        req.destroy()
      }
      res.on('data', (c: Buffer) => { body += c.toString() })
      res.on('end', done)
      res.on('error', done)
    })
    ws.on('error', reject)
  })
}

/**
 * A WebSocket handshake over a bare TCP socket that the client never closes: the status line and whether the
 * funnel closed the connection itself after answering (a refused upgrade must not leave it open).
 */
export async function rawUpgrade (base: string, token: string, from: string, waitMs = 3_000): Promise<{ status: number, closedByServer: boolean }> {
  const u = new URL(base)
  const socket = connect({ host: u.hostname, port: Number(u.port), localAddress: from })
  let got = ''
  socket.on('data', (c: Buffer) => { got += c.toString() })
  socket.on('error', () => { /* a reset counts as closed */ })
  const closed = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), waitMs)
    socket.once('close', () => { clearTimeout(timer); resolve(true) })
  })
  socket.write(`GET /ws?token=${encodeURIComponent(token)} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`)
  const closedByServer = await closed
  socket.destroy()
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(got)?.[1] ?? 0), closedByServer }
}

/** Resolves when the WebSocket has closed. */
export async function closeSocket (ws: WebSocket): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return
  await new Promise<void>((resolve) => {
    ws.once('close', () => resolve())
    ws.close()
  })
}

// ── hand-built WebSocket frames ──────────────────────────────────────────────────────────────────────────────

export const OP = { continuation: 0x0, text: 0x1, binary: 0x2, reserved3: 0x3, close: 0x8, ping: 0x9 } as const

export interface FrameSpec {
  fin?: boolean
  rsv1?: boolean
  rsv2?: boolean
  rsv3?: boolean
  opcode: number
  payload: Buffer
  /** Client frames must be masked (RFC 6455 5.1); false sends it bare. */
  mask?: boolean
  /** Declare this length instead of the payload's (64-bit form). */
  declaredLength?: bigint
}

/** The bytes of one frame as a client would send it. */
export function buildFrame (f: FrameSpec): Buffer {
  const first = (f.fin === false ? 0 : 0x80) | (f.rsv1 ? 0x40 : 0) | (f.rsv2 ? 0x20 : 0) | (f.rsv3 ? 0x10 : 0) | f.opcode
  const masked = f.mask !== false
  const len = f.payload.length
  let head: Buffer
  if (f.declaredLength !== undefined) {
    head = Buffer.alloc(10)
    head[1] = 127
    head.writeBigUInt64BE(f.declaredLength, 2)
  } else if (len < 126) {
    head = Buffer.alloc(2)
    head[1] = len
  } else if (len < 65_536) {
    head = Buffer.alloc(4)
    head[1] = 126
    head.writeUInt16BE(len, 2)
  } else {
    head = Buffer.alloc(10)
    head[1] = 127
    head.writeBigUInt64BE(BigInt(len), 2)
  }
  head[0] = first
  if (!masked) return Buffer.concat([head, f.payload])
  head[1] = head[1]! | 0x80
  const key = randomBytes(4)
  const body = Buffer.from(f.payload.map((b, i) => b ^ key[i % 4]!))
  return Buffer.concat([head, key, body])
}

export interface ServerFrame { opcode: number, payload: Buffer }

/**
 * A WebSocket client over a bare TCP socket: the handshake by hand, then whatever bytes the test writes. It
 * parses the server's frames and notes the close frame's code and when the TCP connection ended.
 */
export class RawWs {
  readonly frames: ServerFrame[] = []
  closeCode: number | null = null
  closeReason = ''
  ended = false
  private buffer: Buffer = Buffer.alloc(0)
  private waiters: Array<() => void> = []

  private constructor (private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk])
      this.parse()
      this.wake()
    })
    socket.on('close', () => { this.ended = true; this.wake() })
    socket.on('error', () => { /* the server may cut us off: 'close' follows */ })
  }

  static async open (base: string, token: string, from?: string): Promise<RawWs> {
    const u = new URL(base)
    const socket = connect({ host: u.hostname, port: Number(u.port), ...(from ? { localAddress: from } : {}) })
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
    socket.write([
      `GET /ws?token=${encodeURIComponent(token)} HTTP/1.1`,
      `Host: ${u.host}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
      'Sec-WebSocket-Version: 13',
      '', ''
    ].join('\r\n'))
    // The 101's head arrives first; frames may follow it in the same chunk.
    const head = await new Promise<{ status: string, rest: Buffer }>((resolve, reject) => {
      let got = Buffer.alloc(0)
      const onData = (chunk: Buffer): void => {
        got = Buffer.concat([got, chunk])
        const end = got.indexOf('\r\n\r\n')
        if (end === -1) return
        socket.off('data', onData)
        resolve({ status: got.subarray(0, end).toString().split('\r\n')[0] ?? '', rest: got.subarray(end + 4) })
      }
      socket.on('data', onData)
      socket.once('close', () => reject(new Error('closed during the handshake')))
    })
    if (!/^HTTP\/1\.1 101/.test(head.status)) throw new Error(`handshake refused: ${head.status}`)
    const client = new RawWs(socket)
    client.buffer = head.rest
    client.parse()
    return client
  }

  write (bytes: Buffer): void {
    this.socket.write(bytes)
  }

  private parse (): void {
    for (;;) {
      const b = this.buffer
      if (b.length < 2) return
      const opcode = b[0]! & 0x0f
      let len = b[1]! & 0x7f
      let offset = 2
      if (len === 126) {
        if (b.length < 4) return
        len = b.readUInt16BE(2)
        offset = 4
      } else if (len === 127) {
        if (b.length < 10) return
        len = Number(b.readBigUInt64BE(2))
        offset = 10
      }
      if (b.length < offset + len) return
      const payload = b.subarray(offset, offset + len)
      this.buffer = b.subarray(offset + len)
      this.frames.push({ opcode, payload })
      if (opcode === OP.close && this.closeCode === null) {
        this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005
        this.closeReason = payload.subarray(2).toString()
      }
    }
  }

  private wake (): void {
    const w = this.waiters
    this.waiters = []
    for (const f of w) f()
  }

  /** Waits until `cond` holds or `timeoutMs` passes; says whether it held. */
  async until (cond: () => boolean, timeoutMs = 5_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs
    while (!cond()) {
      const left = deadline - Date.now()
      if (left <= 0) return false
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.waiters.push(() => { clearTimeout(timer); resolve() })
      })
    }
    return true
  }

  destroy (): void {
    this.socket.destroy()
  }
}

// ── upstreams that show what reached them ────────────────────────────────────────────────────────────────────

/** A request an upstream received: its method, its path as it arrived, the request id the funnel passed on. */
export interface Seen { method: string, url: string, id: string, host?: string, complete?: boolean }

/** A pass-through to a real service that records every request it forwards (method, path as received). */
export async function recordingProxy (t: Test, target: string): Promise<{ url: string, seen: Seen[] }> {
  const to = new URL(target)
  const seen: Seen[] = []
  const server: Server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', id: String(req.headers['x-request-id']), host: req.headers.host })
    const up = httpRequest({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: { ...req.headers, host: to.host } }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
    })
    up.on('error', () => res.destroy())
    req.pipe(up)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen }
}

/**
 * A stand-in chroma-service: a real Fastify service with the kit's OpenAPI and Swagger UI at /api/docs, one
 * documented route, and an echo for every other path. It records each request and whether its body arrived
 * whole.
 */
export async function chromaStandIn (t: Test): Promise<{ url: string, seen: Seen[] }> {
  const seen: Seen[] = []
  // Closing drops the funnel's pooled connections too, idle or not.
  const app = Fastify({ logger: false, forceCloseConnections: true })
  app.addHook('onRequest', async (request) => {
    const entry: Seen = { method: request.method, url: request.raw.url ?? '', id: String(request.headers['x-request-id']) }
    seen.push(entry)
    request.raw.on('close', () => { entry.complete = request.raw.complete })
  })
  await app.register(openapiPlugin, { title: 'Skein chroma-service (stand-in)', description: 'Collections and memory', uiPath: '/api/docs', specPath: '/api/openapi.json', tags: [{ name: 'collections', description: 'Chroma collections' }] })
  app.get('/health', async () => ({ status: 'ok', service: 'chroma-service', version: '0', instance: 'x', uptimeSeconds: 1, dependencies: { nats: { status: 'up' }, chromadb: { status: 'up' } } }))
  const listing = { tags: ['collections'], summary: 'Every collection', response: { 200: { type: 'object', properties: { collections: { type: 'array' } } } } }
  app.get('/api/collections', { schema: listing }, async () => ({ collections: [] }))
  app.all('/*', async (request) => ({ upstream: 'chroma-service', url: request.raw.url }))
  t.teardown(() => app.close())
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  return { url, seen }
}

/** A TCP listener on the loopback that counts who connects to it: the target of internal-address URLs. */
export async function tripwire (t: Test): Promise<{ url: string, port: number, hits: () => number }> {
  let hits = 0
  const server = createTcpServer((socket) => {
    hits++
    socket.destroy()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const port = (server.address() as AddressInfo).port
  return { url: `http://127.0.0.1:${port}`, port, hits: () => hits }
}

// ── a real browser ───────────────────────────────────────────────────────────────────────────────────────────

/**
 * Loads a page in headless Chromium (/usr/bin/chromium, as the web app's tests use) and gives back the DOM once
 * its scripts ran, and the console lines (Content-Security-Policy violations are reported there).
 */
export async function browserLoad (url: string): Promise<{ dom: string, console: string[] }> {
  const profile = mkdtempSync(join(tmpdir(), 'skein-chromium-'))
  try {
    return await new Promise((resolve, reject) => {
      const child = spawn('/usr/bin/chromium', [
        '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-extensions',
        `--user-data-dir=${profile}`, '--enable-logging=stderr', '--v=0', '--virtual-time-budget=5000', '--dump-dom', url
      ], { env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: 'disabled:' }, stdio: ['ignore', 'pipe', 'pipe'] })
      let dom = ''
      let err = ''
      child.stdout.on('data', (c: Buffer) => { dom += c.toString() })
      child.stderr.on('data', (c: Buffer) => { err += c.toString() })
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
      child.on('error', reject)
      child.on('close', () => {
        clearTimeout(timer)
        resolve({ dom, console: err.split('\n').filter((l) => l.includes(':CONSOLE')) })
      })
    })
  } finally {
    rmSync(profile, { recursive: true, force: true })
  }
}
