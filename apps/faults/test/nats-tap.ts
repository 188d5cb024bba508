import { connect, createServer, type Server, type Socket } from 'node:net'
import { freePort } from '@skein/stack'

const CRLF = Buffer.from('\r\n')

/**
 * A TCP proxy in front of a NATS server that reads what its clients send, one protocol operation at a time,
 * and goes deaf on purpose: after it has passed on the first publish whose bytes contain `marker` (a
 * `Nats-Msg-Id`, say), nothing more from any client reaches the server. The server's side keeps flowing.
 * A service behind it has then done exactly that publish and nothing after it, however fast it runs:
 * killing it now lands a crash at that precise point.
 */
export class NatsTap {
  readonly url: string
  /** Resolves with the publish that muted the tap. */
  readonly muted: Promise<string>
  private deaf = false
  private readonly sockets = new Set<Socket>()

  private constructor (private readonly server: Server, port: number, private readonly marker: Buffer, private readonly onMuted: (op: string) => void, muted: Promise<string>) {
    this.url = `nats://127.0.0.1:${port}`
    this.muted = muted
  }

  static async start (target: string, marker: string): Promise<NatsTap> {
    const { hostname, port: targetPort } = new URL(target)
    const port = await freePort()
    let onMuted!: (op: string) => void
    const muted = new Promise<string>((resolve) => { onMuted = resolve })
    const tap = new NatsTap(createServer(), port, Buffer.from(marker), onMuted, muted)
    tap.server.on('connection', (client) => {
      const upstream = connect(Number(targetPort), hostname)
      for (const s of [client, upstream]) {
        tap.sockets.add(s)
        s.on('close', () => tap.sockets.delete(s))
        s.on('error', () => { client.destroy(); upstream.destroy() })
      }
      upstream.pipe(client)
      let pending = Buffer.alloc(0)
      client.on('data', (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk])
        for (;;) {
          const size = opSize(pending)
          if (size === null) break
          const op = pending.subarray(0, size)
          pending = pending.subarray(size)
          if (tap.deaf) continue
          upstream.write(op)
          if (op.includes(tap.marker)) {
            tap.deaf = true
            tap.onMuted(op.toString('latin1'))
          }
        }
      })
    })
    await new Promise<void>((resolve) => tap.server.listen(port, '127.0.0.1', resolve))
    return tap
  }

  async close (): Promise<void> {
    for (const s of this.sockets) s.destroy()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}

/**
 * The length of the first whole client operation in `buf`, or null when it has not all arrived. An operation
 * is one line, except `PUB subject [reply] <bytes>` and `HPUB subject [reply] <header bytes> <total bytes>`,
 * whose line is followed by that many bytes and a CRLF.
 */
function opSize (buf: Buffer): number | null {
  const eol = buf.indexOf(CRLF)
  if (eol < 0) return null
  const line = buf.subarray(0, eol).toString('latin1')
  const verb = line.slice(0, 5).toUpperCase()
  let body = 0
  if (verb.startsWith('PUB ') || verb === 'HPUB ') body = Number(line.trim().split(/\s+/).at(-1)) + CRLF.length
  const size = eol + CRLF.length + body
  return buf.length >= size ? size : null
}
