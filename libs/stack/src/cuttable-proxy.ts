import { connect, createServer, type Server, type Socket } from 'node:net'
import { freePort } from './wait.js'

/**
 * A TCP proxy in front of a server that can lose the network for real: `cut()` destroys every connection
 * through it (no close handshake, as a lost network does) and refuses new ones until `restore()`.
 */
export class CuttableProxy {
  readonly url: string
  /** Connections passed through, and refused during a cut. */
  accepted = 0
  refused = 0
  private refusing = false
  private readonly sockets = new Set<Socket>()

  private constructor (private readonly server: Server, port: number) {
    this.url = `http://127.0.0.1:${port}`
  }

  /** A proxy on a free loopback port in front of `target` (an http:// URL). */
  static async start (target: string): Promise<CuttableProxy> {
    const { hostname, port: targetPort } = new URL(target)
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
      const upstream = connect(Number(targetPort), hostname)
      for (const s of [client, upstream]) {
        proxy.sockets.add(s)
        s.on('close', () => proxy.sockets.delete(s))
        s.on('error', () => { client.destroy(); upstream.destroy() })
      }
      client.pipe(upstream)
      upstream.pipe(client)
    })
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
    return proxy
  }

  /** Starts a cut: every connection dropped now, new ones refused until `restore()`. */
  cut (): void {
    this.refusing = true
    for (const s of this.sockets) s.resetAndDestroy()
  }

  restore (): void {
    this.refusing = false
  }

  /** A cut that lasts `ms`. */
  async cutFor (ms: number): Promise<void> {
    this.cut()
    await new Promise((resolve) => setTimeout(resolve, ms))
    this.restore()
  }

  async close (): Promise<void> {
    for (const s of this.sockets) s.destroy()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}
