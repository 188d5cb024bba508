import type { WebSocket } from 'ws'

/**
 * A text frame for many sockets, framed once: `bytes` is the whole RFC 6455 frame (header and payload) as it
 * goes on the wire, `payload` the JSON text inside it.
 */
export interface WireFrame {
  readonly payload: Buffer
  readonly bytes: Buffer
}

/** Frames a server text frame once (RFC 6455 §5.2: FIN, opcode 1, unmasked, as servers send; the same bytes for every socket). */
export function wireFrame (text: string): WireFrame {
  const n = Buffer.byteLength(text)
  const head = n < 126 ? 2 : n < 65_536 ? 4 : 10
  const bytes = Buffer.allocUnsafe(head + n)
  bytes[0] = 0x81
  if (n < 126) {
    bytes[1] = n
  } else if (n < 65_536) {
    bytes[1] = 126
    bytes.writeUInt16BE(n, 2)
  } else {
    bytes[1] = 127
    bytes.writeBigUInt64BE(BigInt(n), 2)
  }
  bytes.write(text, head)
  return { payload: bytes.subarray(head), bytes }
}

/** The parts of ws's WebSocket this module reaches into (ws 8, permessage-deflate off). */
interface Internals {
  _socket?: RawSocket
  _sender?: { _state: number, _queue: unknown[] }
}

interface RawSocket {
  write: (b: Buffer) => boolean
  writable: boolean
  writableCorked: number
  cork: () => void
  uncork: () => void
}

/**
 * Sockets written to in this tick. A room's events often arrive several at a time (one read from NATS holds
 * many): each socket is corked at its first frame and uncorked when the tick's work is done, so that all its
 * frames leave in one write system call instead of one each. Nothing waits longer than the current tick.
 */
const corked: RawSocket[] = []

function uncorkAll (): void {
  for (const raw of corked) raw.uncork()
  corked.length = 0
}

/** ws's Sender state when nothing is being compressed or read from a Blob (lib/sender.js: DEFAULT). */
const SENDER_IDLE = 0

/**
 * Writes a framed text frame to the socket, as `socket.send(payload)` would but without framing it again;
 * falls back to `send` whenever ws's sender holds anything queued, so that frames never change order. Frames
 * for one socket within one tick go out in one write (see `corked`).
 */
export function sendWire (socket: WebSocket, frame: WireFrame): void {
  const ws = socket as WebSocket & Internals
  const raw = ws._socket
  const sender = ws._sender
  if (socket.readyState === socket.OPEN && raw?.writable === true && sender?._state === SENDER_IDLE && sender._queue.length === 0) {
    if (raw.writableCorked === 0) {
      raw.cork()
      if (corked.push(raw) === 1) process.nextTick(uncorkAll)
    }
    raw.write(frame.bytes)
  } else {
    socket.send(frame.payload, { binary: false })
  }
}
