#!/usr/bin/env node
// The plain `ws` baseline: a room server speaking Skein's /ws JSON frames (status, create_room, join_room,
// message → ack + new_message), as a Socket.IO-free Node backend would write it. Run as its own process by
// the realtime bench (with --expose-gc) so its RSS is its own. Env: PORT, HOST, JWT_SECRET.
// With NATS_URL it is "plain ws + JetStream": each message is stored in a JetStream stream first, and goes out
// with the stream's seq once stored, as Skein's are; the rest is the same server.
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import { jetstream, jetstreamManager, type JetStreamClient } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { WebSocketServer, type WebSocket } from 'ws'
import { BaselineRooms, STORE_STREAM, answerControl, requestToken, serverConfig, tokenUser, validRoom, validText } from './baseline-rooms.js'

interface Conn { user: string, socket: WebSocket }

const { port, host, secret } = serverConfig()
const rooms = new BaselineRooms<Conn>()
const store = process.env.NATS_URL ? await openStore(process.env.NATS_URL) : undefined

/** The stream every message is stored in before it is sent (file storage; the bench's NATS syncs every write). */
async function openStore (servers: string): Promise<JetStreamClient> {
  const nc = await connect({ servers, noAsyncTraces: true })
  await (await jetstreamManager(nc)).streams.add({ name: STORE_STREAM, subjects: [`${STORE_STREAM}.>`] })
  return jetstream(nc)
}
const wss = new WebSocketServer({ noServer: true, maxPayload: 65_536, perMessageDeflate: false })

const server = createServer((req, res) => {
  if (!answerControl(req, res)) res.writeHead(404).end()
})

server.on('upgrade', (req, socket, head) => {
  const user = new URL(req.url ?? '/', 'http://x').pathname === '/ws' ? tokenUser(secret, requestToken(req)) : undefined
  if (!user) {
    socket.end('HTTP/1.1 401 Unauthorized\r\nconnection: close\r\ncontent-length: 0\r\n\r\n')
    return
  }
  wss.handleUpgrade(req, socket, head, (ws) => { connected({ user, socket: ws }) })
})

function send (conn: Conn, event: string, data: unknown, id?: string): void {
  conn.socket.send(JSON.stringify(id === undefined ? { event, data } : { event, id, data }))
}

function connected (conn: Conn): void {
  conn.socket.on('message', (raw, isBinary) => {
    let frame: { event?: unknown, data?: Record<string, unknown>, id?: unknown }
    try {
      frame = isBinary ? {} : JSON.parse(raw.toString('utf8'))
    } catch {
      frame = {}
    }
    const id = typeof frame.id === 'string' ? frame.id : undefined
    const data = frame.data ?? {}
    const fail = (code: string, message: string): void => { send(conn, 'error', { code, message }, id) }
    switch (frame.event) {
      case 'create_room':
        if (!validRoom(data.room)) return fail('BENCH_VALIDATION', 'room: a room id')
        if (id) send(conn, 'ack', { id: data.room }, id)
        return
      case 'join_room': {
        if (!validRoom(data.room)) return fail('BENCH_VALIDATION', 'room: a room id')
        const joined = rooms.join(conn, data.room)
        if (id) send(conn, 'ack', { room: data.room }, id)
        send(conn, 'room_joined', joined)
        return
      }
      case 'message': {
        if (!validRoom(data.room) || !validText(data.text)) return fail('BENCH_VALIDATION', 'room and text are required')
        const posted = rooms.post(conn, data.room, data.text)
        if (!posted) return fail('BENCH_NOT_MEMBER', 'join the room first')
        const room = data.room
        const broadcast = (): void => {
          // Encoded once, sent to every other member.
          const frameOut = Buffer.from(JSON.stringify({ event: 'new_message', data: posted }))
          for (const other of rooms.membersOf(room)) if (other !== conn) other.socket.send(frameOut, { binary: false })
          if (id) send(conn, 'ack', { room, seq: posted.seq, id: posted.id }, id)
        }
        if (!store) return broadcast()
        // Stored, then sent with the stream's seq. Acks come back in publish order, so sends keep that order.
        store.publish(`${STORE_STREAM}.${room}`, JSON.stringify(posted)).then((ack) => {
          posted.seq = ack.seq
          broadcast()
        }, (err: unknown) => { fail('BENCH_NOT_STORED', err instanceof Error ? err.message : String(err)) })
        return
      }
      default:
        fail('BENCH_UNKNOWN_EVENT', `unknown event "${String(frame.event).slice(0, 64)}"`)
    }
  })
  conn.socket.on('close', () => { rooms.leaveAll(conn) })
  send(conn, 'status', { user: conn.user, sessionId: randomUUID() })
}

server.listen(port, host)
const stop = (): void => {
  for (const c of wss.clients) c.terminate()
  server.close(() => process.exit(0))
}
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
