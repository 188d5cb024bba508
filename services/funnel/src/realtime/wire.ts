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
  _socket?: { write: (b: Buffer) => boolean, writable: boolean }
  _sender?: { _state: number, _queue: unknown[] }
}

/** ws's Sender state when nothing is being compressed or read from a Blob (lib/sender.js: DEFAULT). */
const SENDER_IDLE = 0

/**
 * Writes a framed text frame to the socket, as `socket.send(payload)` would but without framing it again;
 * falls back to `send` whenever ws's sender holds anything queued, so that frames never change order.
 */
export function sendWire (socket: WebSocket, frame: WireFrame): void {
  const ws = socket as WebSocket & Internals
  const raw = ws._socket
  const sender = ws._sender
  if (socket.readyState === socket.OPEN && raw?.writable === true && sender?._state === SENDER_IDLE && sender._queue.length === 0) {
    raw.write(frame.bytes)
  } else {
    socket.send(frame.payload, { binary: false })
  }
}
