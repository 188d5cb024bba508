import type { WebSocket } from 'ws'
import { CloseCodes } from '@skein/schemas'
import type { RoomFrame } from './event-map.js'
import { sendWire, type WireFrame } from './wire.js'

/** Where one socket is in one room's log. */
export interface RoomCursor {
  /** The seq of the last sequenced event sent for this room. */
  lastSent: number
  /** While the room is being replayed, live events wait here (bounded: on overflow the replay goes on reading). */
  pending: RoomFrame[] | null
  overflowed: boolean
  /** The live tail's position when the socket joined: the replay reads up to here. */
  upTo: number
  /** The room shows other threads' events too (main, a private room): its replay reads the whole log. */
  wide: boolean
}

const FLOOD_WINDOW_MS = 10_000

export interface SessionLimits {
  maxBufferedBytes: number
  /** How long a socket being closed has to read its close frame (behind what it had not read yet). */
  closeGraceMs: number
  ratePerS: number
  rateBurst: number
}

/**
 * One connected socket: who it is, the rooms it is in and how far it got in each, its frame budget (a token
 * bucket), and the one way frames reach it (`send`), which closes a socket that stopped reading instead of
 * letting its buffer grow.
 */
/** How many unconfirmed messages a socket remembers, to show it those that turn out stored (see Hub.post). */
const UNCONFIRMED_KEPT = 64

export class Session {
  readonly rooms = new Map<string, RoomCursor>()
  /** Messages this socket is posting, by id: told the seq when the room's feed shows one stored before its ack came. */
  readonly posting = new Map<string, (seq: number) => void>()
  /** Messages whose post ended unconfirmed: one the feed then shows stored is sent to this socket as well. */
  private readonly unconfirmed = new Set<string>()
  alive = true
  closed = false
  private tokens: number
  private refilled = performance.now()
  /** Frames refused for the rate since `refusedSince` (a window of FLOOD_WINDOW_MS). */
  private refused = 0
  private refusedSince = 0
  /** When this socket was last told it is over its rate (once a second at most). */
  private toldAt = 0

  constructor (
    readonly id: string,
    readonly user: string,
    /** The token's expiry, in ms since the epoch. */
    readonly expiresAt: number,
    readonly socket: WebSocket,
    private readonly limits: SessionLimits,
    /** The upgrade request's id: carried into the NATS headers of what this socket publishes. */
    readonly requestId: string
  ) {
    this.tokens = limits.rateBurst
  }

  /** Remembers a message whose post ended unconfirmed (the oldest is forgotten past UNCONFIRMED_KEPT). */
  leftUnconfirmed (id: string): void {
    this.unconfirmed.add(id)
    if (this.unconfirmed.size > UNCONFIRMED_KEPT) this.unconfirmed.delete(this.unconfirmed.values().next().value!)
  }

  /** Whether this socket's own message, shown by the room's feed, goes to it: only one left unconfirmed does, once. */
  owesOwn (id: string): boolean {
    return this.unconfirmed.delete(id)
  }

  get expired (): boolean {
    return Date.now() >= this.expiresAt
  }

  /** Takes one frame from the budget; false when the socket is over its rate. */
  take (): boolean {
    const now = performance.now()
    this.tokens = Math.min(this.limits.rateBurst, this.tokens + ((now - this.refilled) / 1000) * this.limits.ratePerS)
    this.refilled = now
    if (this.tokens >= 1) {
      this.tokens -= 1
      return true
    }
    if (now - this.refusedSince > FLOOD_WINDOW_MS) {
      this.refused = 0
      this.refusedSince = now
    }
    this.refused++
    return false
  }

  /** Whether to tell the client it is over its rate now (at most once a second, not once per frame). */
  shouldTell (): boolean {
    const now = performance.now()
    if (now - this.toldAt < 1_000) return false
    this.toldAt = now
    return true
  }

  /** A client that keeps sending far over its rate (more refused frames than its burst, within 10 s) is closed. */
  get flooding (): boolean {
    return this.refused > this.limits.rateBurst
  }

  /**
   * Sends one text frame, unless the socket is so far behind that it counts as a slow consumer: then it is
   * closed. A frame for many sockets comes framed once (see wire.ts).
   */
  send (frame: string | WireFrame): boolean {
    if (this.closed) return false
    if (this.socket.bufferedAmount > this.limits.maxBufferedBytes) {
      this.close(CloseCodes.SLOW_CONSUMER, 'slow consumer: reconnect and rejoin with afterSeq, nothing is lost')
      return false
    }
    if (typeof frame === 'string') this.socket.send(frame)
    else sendWire(this.socket, frame)
    return true
  }

  /** Resolves once the socket's send buffer is below half the limit (replays wait here rather than pile up). */
  async drained (): Promise<void> {
    while (!this.closed && this.socket.bufferedAmount > this.limits.maxBufferedBytes / 2) {
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  }

  close (code: number, reason: string): void {
    if (this.closed) return
    this.closed = true
    try {
      this.socket.close(code, reason)
    } catch {
      this.socket.terminate()
    }
    // A peer that never answers the close handshake is cut after a moment.
    setTimeout(() => this.socket.terminate(), this.limits.closeGraceMs).unref()
  }

  dispose (): void {
    this.closed = true
  }
}
