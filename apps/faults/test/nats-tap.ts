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
 * - `lose-replies` (`losingReplies`): as `lose-reply`, for that publish and every marked one after it (a
 *   client's attempts again under the same msgID): no answer to any of them ever arrives.
 */
export class NatsTap {
  readonly url: string
  /** Resolves with the operation that set the tap off: the marked publish (deaf), the dropped answer (lose-reply). */
  readonly muted: Promise<string>
  private deaf = false
  /** lose-reply(ies): the reply subjects of marked publishes whose answers are still to be dropped. */
  private readonly doomed = new Set<string>()
  private spent = false
  /** Answers dropped so far (lose-reply, lose-replies). */
  dropped = 0
  /** What the server sends that contains this is held back (see `hold`), in order, until `release`. */
  private holding: { marker: Buffer, held: Array<{ to: Socket, op: Buffer }> } | null = null
  private readonly sockets = new Set<Socket>()

  private constructor (private readonly server: Server, port: number, private readonly marker: Buffer, private readonly mode: Mode, private readonly onMuted: (op: string) => void, muted: Promise<string>) {
    this.url = `nats://127.0.0.1:${port}`
    this.muted = muted
  }

  static async start (target: string, marker: string): Promise<NatsTap> {
    return await NatsTap.open(target, marker, 'deaf')
  }

  static async losingReply (target: string, marker: string): Promise<NatsTap> {
    return await NatsTap.open(target, marker, 'lose-reply')
  }

  static async losingReplies (target: string, marker: string): Promise<NatsTap> {
    return await NatsTap.open(target, marker, 'lose-replies')
  }

  private static async open (target: string, marker: string, mode: Mode): Promise<NatsTap> {
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
        if (tap.spent || (tap.mode === 'lose-reply' && tap.doomed.size > 0) || !op.includes(tap.marker)) return
        if (tap.mode === 'deaf') {
          tap.deaf = true
          tap.spent = true
          tap.onMuted(op.toString('latin1'))
        } else {
          // HPUB <subject> <reply> <header bytes> <total bytes>, PUB <subject> <reply> <bytes>
          const words = op.subarray(0, op.indexOf(CRLF)).toString('latin1').trim().split(/\s+/)
          const withReply = words[0]!.toUpperCase() === 'HPUB' ? 5 : 4
          if (words.length === withReply) tap.doomed.add(words[2]!)
        }
      })
      eachOp(upstream, (op) => {
        // MSG <subject> <sid> [reply] <bytes>, HMSG <subject> <sid> [reply] <header bytes> <total bytes>
        if (tap.doomed.size > 0 && /^H?MSG\s/i.test(op.toString('latin1', 0, 5)) && tap.doomed.delete(op.toString('latin1', 0, op.indexOf(CRLF)).split(/\s+/)[1]!)) {
          if (tap.mode === 'lose-reply') tap.spent = true
          tap.dropped++
          tap.onMuted(op.toString('latin1'))
          return
        }
        if (tap.holding && op.includes(tap.holding.marker)) tap.holding.held.push({ to: client, op })
        else client.write(op)
      })
      upstream.on('end', () => client.end())
    })
    await new Promise<void>((resolve) => tap.server.listen(port, '127.0.0.1', resolve))
    return tap
  }

  /**
   * Holds back what the server sends that contains `marker` (a message's text, say: its delivery to a
   * subscriber), whatever mode the tap is in, until `release` passes it all on in order.
   */
  hold (marker: string): void {
    this.holding = { marker: Buffer.from(marker), held: [] }
  }

  /** Passes on what `hold` kept back and stops holding; answers how many operations were held. */
  release (): number {
    const held = this.holding?.held ?? []
    this.holding = null
    for (const { to, op } of held) to.write(op)
    return held.length
  }

  async close (): Promise<void> {
    for (const s of this.sockets) s.destroy()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}

type Mode = 'deaf' | 'lose-reply' | 'lose-replies'

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
