import { connect, createServer, type Server, type Socket } from 'node:net'
import { freePort } from '@skein/stack'

const CRLF = Buffer.from('\r\n')

/**
 * A TCP proxy in front of a NATS server that reads what passes, one protocol operation at a time, and breaks
 * one thing on purpose at the first publish whose bytes contain `marker` (a `Nats-Msg-Id`, say):
 * - `deaf` (`start`): after passing that publish on, nothing more from any client reaches the server. The
 *   server's side keeps flowing. A service behind it has then done exactly that publish and nothing after
 *   it, however fast it runs: killing it now lands a crash at that precise point.
 * - `lose-reply` (`losingReply`): the publish reaches the server, but the server's answer to it (a JetStream
 *   ack) never reaches the client; everything else flows. The client sees a timeout for a write that landed.
 */
export class NatsTap {
  readonly url: string
  /** Resolves with the operation that set the tap off: the marked publish (deaf), the dropped answer (lose-reply). */
  readonly muted: Promise<string>
  private deaf = false
  /** lose-reply: the reply subject of the marked publish, until its answer has been dropped. */
  private doomed: string | null = null
  private spent = false
  private readonly sockets = new Set<Socket>()

  private constructor (private readonly server: Server, port: number, private readonly marker: Buffer, private readonly mode: 'deaf' | 'lose-reply', private readonly onMuted: (op: string) => void, muted: Promise<string>) {
    this.url = `nats://127.0.0.1:${port}`
    this.muted = muted
  }

  static async start (target: string, marker: string): Promise<NatsTap> {
    return await NatsTap.open(target, marker, 'deaf')
  }

  static async losingReply (target: string, marker: string): Promise<NatsTap> {
    return await NatsTap.open(target, marker, 'lose-reply')
  }

  private static async open (target: string, marker: string, mode: 'deaf' | 'lose-reply'): Promise<NatsTap> {
    const { hostname, port: targetPort } = new URL(target)
    const port = await freePort()
    let onMuted!: (op: string) => void
    const muted = new Promise<string>((resolve) => { onMuted = resolve })
    const tap = new NatsTap(createServer(), port, Buffer.from(marker), mode, onMuted, muted)
    tap.server.on('connection', (client) => {
      const upstream = connect(Number(targetPort), hostname)
      for (const s of [client, upstream]) {
        tap.sockets.add(s)
        s.on('close', () => tap.sockets.delete(s))
        s.on('error', () => { client.destroy(); upstream.destroy() })
      }
      eachOp(client, (op) => {
        if (tap.deaf) return
        upstream.write(op)
        if (tap.spent || tap.doomed !== null || !op.includes(tap.marker)) return
        if (tap.mode === 'deaf') {
          tap.deaf = true
          tap.spent = true
          tap.onMuted(op.toString('latin1'))
        } else {
          // HPUB <subject> <reply> <header bytes> <total bytes>, PUB <subject> <reply> <bytes>
          const words = op.subarray(0, op.indexOf(CRLF)).toString('latin1').trim().split(/\s+/)
          const withReply = words[0]!.toUpperCase() === 'HPUB' ? 5 : 4
          if (words.length === withReply) tap.doomed = words[2]!
        }
      })
      eachOp(upstream, (op) => {
        // MSG <subject> <sid> [reply] <bytes>, HMSG <subject> <sid> [reply] <header bytes> <total bytes>
        if (tap.doomed !== null && /^H?MSG\s/i.test(op.toString('latin1', 0, 5)) && op.toString('latin1', 0, op.indexOf(CRLF)).split(/\s+/)[1] === tap.doomed) {
          tap.doomed = null
          tap.spent = true
          tap.onMuted(op.toString('latin1'))
          return
        }
        client.write(op)
      })
      upstream.on('end', () => client.end())
    })
    await new Promise<void>((resolve) => tap.server.listen(port, '127.0.0.1', resolve))
    return tap
  }

  async close (): Promise<void> {
    for (const s of this.sockets) s.destroy()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}

/** Calls `each` with every whole protocol operation that arrives on `socket`, in order. */
function eachOp (socket: Socket, each: (op: Buffer) => void): void {
  let pending = Buffer.alloc(0)
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk])
    for (;;) {
      const size = opSize(pending)
      if (size === null) break
      const op = pending.subarray(0, size)
      pending = pending.subarray(size)
      each(op)
    }
  })
}

/**
 * The length of the first whole operation in `buf`, or null when it has not all arrived. An operation is one
 * line, except a client's `PUB`/`HPUB` and a server's `MSG`/`HMSG`, whose line ends with the size of the
 * payload that follows it (and a CRLF).
 */
function opSize (buf: Buffer): number | null {
  const eol = buf.indexOf(CRLF)
  if (eol < 0) return null
  const line = buf.subarray(0, eol).toString('latin1')
  const verb = line.slice(0, 5).toUpperCase()
  let body = 0
  if (verb.startsWith('PUB ') || verb === 'HPUB ' || verb.startsWith('MSG ') || verb === 'HMSG ') body = Number(line.trim().split(/\s+/).at(-1)) + CRLF.length
  const size = eol + CRLF.length + body
  return buf.length >= size ? size : null
}
