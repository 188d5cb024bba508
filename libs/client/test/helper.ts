import { createHmac } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { createServer, connect, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import { WebSocket } from 'ws'
import { freePort, freePorts, startStack, type RunningStack } from '@skein/stack'
import { SkeinClient, type SkeinClientOptions, type WebSocketConstructor } from '../src/index.js'

/** The whole local stack (as npm start runs it, without the web app) on free ports, stopped in teardown. */
export async function stack (t: Test): Promise<RunningStack> {
  const running = await startStack({
    dataDir: mkdtempSync(join(tmpdir(), 'skein-client-')),
    ports: await freePorts(),
    natsUrl: `nats://127.0.0.1:${await freePort()}`,
    web: false,
    env: { LOG_LEVEL: 'warn', SIM_TOKENS_PER_SECOND: '100' }
  })
  t.teardown(() => running.stop())
  return running
}

/** An HS256 Skein token, signed as the services sign theirs (for a token that expires soon). */
export function signToken (secret: string, user: string, ttlSeconds: number): string {
  const b64 = (s: string): string => Buffer.from(s).toString('base64url')
  const iat = Math.floor(Date.now() / 1000)
  const input = `${b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64(JSON.stringify({ sub: user, iat, exp: iat + ttlSeconds }))}`
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`
}

/** A signed-in client (dev login) of `baseURL`, with the ws package as its WebSocket; closed in teardown. */
export async function signedIn (t: Test, baseURL: string, user: string, opts: Partial<SkeinClientOptions> = {}): Promise<SkeinClient> {
  const { token } = await new SkeinClient({ baseURL }).auth.token(user)
  const client = new SkeinClient({ baseURL, token, WebSocket: WebSocket as unknown as WebSocketConstructor, ...opts })
  t.teardown(() => client.realtime.close())
  return client
}

/**
 * A TCP proxy in front of the funnel that can lose the network for real: `cut(ms)` destroys every connection
 * through it and refuses new ones for that long, then lets them through again.
 */
export class CuttableProxy {
  readonly url: string
  /** Connections accepted and passed through, and refused during a cut. */
  accepted = 0
  refused = 0
  private refusing = false
  private readonly sockets = new Set<Socket>()

  private constructor (private readonly server: Server, port: number) {
    this.url = `http://127.0.0.1:${port}`
  }

  static async start (t: Test, targetUrl: string): Promise<CuttableProxy> {
    const target = new URL(targetUrl)
    const server = createServer()
    const port = await freePort()
    const proxy = new CuttableProxy(server, port)
    server.on('connection', (client) => {
      if (proxy.refusing) {
        proxy.refused++
        client.resetAndDestroy()
        return
      }
      proxy.accepted++
      const upstream = connect(Number(target.port), target.hostname)
      for (const s of [client, upstream]) {
        proxy.sockets.add(s)
        s.on('close', () => proxy.sockets.delete(s))
        s.on('error', () => { client.destroy(); upstream.destroy() })
      }
      client.pipe(upstream)
      upstream.pipe(client)
    })
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
    t.teardown(() => proxy.close())
    return proxy
  }

  /** Drops every connection now (no close handshake) and refuses new ones for `ms`. */
  async cut (ms: number): Promise<void> {
    this.refusing = true
    for (const s of this.sockets) s.resetAndDestroy()
    await new Promise((resolve) => setTimeout(resolve, ms))
    this.refusing = false
  }

  async close (): Promise<void> {
    for (const s of this.sockets) s.destroy()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}

/** Waits until `cond` holds, polling. */
export async function until (cond: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
