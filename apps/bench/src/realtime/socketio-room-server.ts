#!/usr/bin/env node
// The socket.io 4.8 baseline: the same rooms and payloads as Skein's /ws, the idiomatic socket.io way —
// named events, acknowledgement callbacks, socket.join and socket.to(room).emit. Run as its own process by
// the realtime bench (with --expose-gc) so its RSS is its own. Env: PORT, HOST, JWT_SECRET.
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import { Server, type Socket } from 'socket.io'
import { BaselineRooms, answerControl, serverConfig, tokenUser, validRoom, validText } from './baseline-rooms.js'

type Ack = (answer: Record<string, unknown>) => void
interface Conn { user: string, socket: Socket }

const { port, host, secret } = serverConfig()
const rooms = new BaselineRooms<Conn>()

const server = createServer((req, res) => {
  // socket.io answers its own path (/socket.io/) and leaves the rest to this listener.
  if (!req.url?.startsWith('/socket.io/') && !answerControl(req, res)) res.writeHead(404).end()
})
const io = new Server(server, { serveClient: false, maxHttpBufferSize: 65_536, perMessageDeflate: false })

io.use((socket, next) => {
  const auth = socket.handshake.auth as { token?: unknown }
  const query = socket.handshake.query.token
  const user = tokenUser(secret, typeof auth.token === 'string' ? auth.token : typeof query === 'string' ? query : undefined)
  if (!user) {
    next(new Error('unauthorized'))
    return
  }
  socket.data.user = user
  next()
})

io.on('connection', (socket) => {
  const conn: Conn = { user: socket.data.user as string, socket }
  const answer = (ack: unknown): Ack => typeof ack === 'function' ? ack as Ack : () => {}
  const failure = (code: string, message: string): Record<string, unknown> => ({ error: { code, message } })

  socket.on('create_room', (data: Record<string, unknown> | undefined, ack: unknown) => {
    answer(ack)(validRoom(data?.room) ? { id: data.room } : failure('BENCH_VALIDATION', 'room: a room id'))
  })
  socket.on('join_room', (data: Record<string, unknown> | undefined, ack: unknown) => {
    if (!validRoom(data?.room)) return answer(ack)(failure('BENCH_VALIDATION', 'room: a room id'))
    void socket.join(data.room)
    const joined = rooms.join(conn, data.room)
    answer(ack)({ room: data.room })
    socket.emit('room_joined', joined)
  })
  socket.on('message', (data: Record<string, unknown> | undefined, ack: unknown) => {
    if (!validRoom(data?.room) || !validText(data.text)) return answer(ack)(failure('BENCH_VALIDATION', 'room and text are required'))
    const posted = rooms.post(conn, data.room, data.text)
    if (!posted) return answer(ack)(failure('BENCH_NOT_MEMBER', 'join the room first'))
    socket.to(data.room).emit('new_message', posted)
    answer(ack)({ room: data.room, seq: posted.seq, id: posted.id })
  })
  socket.on('disconnect', () => { rooms.leaveAll(conn) })
  socket.emit('status', { user: conn.user, sessionId: randomUUID() })
})

server.listen(port, host)
const stop = (): void => {
  void io.close()
  server.close(() => process.exit(0))
}
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
