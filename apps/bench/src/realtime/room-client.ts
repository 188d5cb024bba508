// One benchmark connection to a room server, the same for the three targets: Skein's /ws and the plain ws
// baseline speak the JSON frames of libs/schemas/src/realtime.ts; the socket.io baseline carries the same
// payloads as socket.io events with acknowledgement callbacks.
import { CloseCodes } from '@skein/schemas'
import { io as ioClient, type Socket } from 'socket.io-client'
import WebSocket from 'ws'

export interface NewMessageData { room: string, seq: number, id: string, user: string, text: string, ts: string }
export interface RoomJoinedData { room: string, members: string[], lastSeq: number }
export interface MessageAck { room: string, seq: number, id: string }

export interface RoomClient {
  readonly user: string
  /** Called with every new_message the server delivers. */
  onMessage: ((message: NewMessageData) => void) | undefined
  /** Called with every other sequenced event (llm_token, llm_complete, thread_*): Skein's /ws only. */
  onEvent: ((event: string, data: Record<string, unknown>) => void) | undefined
  /** Sends any client event; resolves with its ack's data, rejects with the server's error. */
  request: (event: string, data: Record<string, unknown>) => Promise<Record<string, unknown>>
  createRoom: (room: string) => Promise<Record<string, unknown>>
  /** Resolves once both the ack and room_joined have come. */
  join: (room: string) => Promise<RoomJoinedData>
  /** Resolves with the ack (seq and message id), rejects with the server's error. */
  send: (room: string, text: string) => Promise<MessageAck>
  /** Set when the server closed the connection for good: its close code and reason. */
  readonly closedBy: string | undefined
  /** Server closes the client recovered from by reconnecting and rejoining with afterSeq (Skein's protocol). */
  readonly resumes: readonly string[]
  close: () => Promise<void>
}

export type Connect = (user: string) => Promise<RoomClient>

const CONNECT_TIMEOUT_MS = 15_000

class RequestError extends Error {
  constructor (event: string, data: unknown) {
    const d = data as { code?: string, message?: string } | undefined
    super(`${event} was refused: ${d?.code ?? 'error'}: ${d?.message ?? JSON.stringify(data)}`)
  }
}

function timeout<T> (promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms) })
  ])
}

/** A client of Skein's JSON frames: `wsUrl` is ws://host:port/ws, the token goes in `?token=`. */
export function jsonConnector (wsUrl: string, token: (user: string) => string): Connect {
  return async (user) => {
    const client = new JsonRoomClient(user, () => `${wsUrl}?token=${encodeURIComponent(token(user))}`)
    await timeout(client.open(), CONNECT_TIMEOUT_MS, `connecting ${user} to ${wsUrl}`)
    return client
  }
}

type Frame = { event: string, data: Record<string, unknown>, id?: string }

/**
 * Frames the bench has no use for (presence, typing) are recognised by their first bytes and not parsed, so
 * the clients' cost does not grow with the server's chatter and the bench measures the server.
 */
const IGNORED = ['presence', 'user_typing'].map((e) => Buffer.from(`{"event":"${e}"`))
export const ignored = (raw: Buffer): boolean => IGNORED.some((prefix) => raw.length >= prefix.length && raw.compare(prefix, 0, prefix.length, 0, prefix.length) === 0)

/** Close codes after which a Skein client reconnects and rejoins with afterSeq (nothing is lost). */
const RESUMABLE = new Set<number>([CloseCodes.SLOW_CONSUMER, CloseCodes.GOING_AWAY, CloseCodes.TOKEN_EXPIRED])

/** The sequenced events besides new_message: they move a room's resume point too. */
const SEQUENCED = new Set(['llm_token', 'llm_complete', 'thread_created', 'thread_updated', 'thread_closed'])

class JsonRoomClient implements RoomClient {
  onMessage: ((message: NewMessageData) => void) | undefined
  onEvent: ((event: string, data: Record<string, unknown>) => void) | undefined
  closedBy: string | undefined
  readonly resumes: string[] = []
  private socket: WebSocket | undefined
  private nextId = 0
  private readonly pending = new Map<string, { resolve: (data: Record<string, unknown>) => void, reject: (err: Error) => void, event: string }>()
  private readonly joinedWaiters = new Map<string, (data: RoomJoinedData) => void>()
  /** The rooms joined and the last seq seen in each: what a resume rejoins from. */
  private readonly rooms = new Map<string, number>()
  private closing = false

  constructor (readonly user: string, private readonly url: () => string) {}

  /** Connects; resolves on the server's `status` frame. */
  async open (): Promise<void> {
    const socket = new WebSocket(this.url(), { perMessageDeflate: false })
    this.socket = socket
    await new Promise<void>((resolve, reject) => {
      let ready = false
      socket.on('unexpected-response', (_req, res) => { reject(new Error(`${this.user}: the upgrade was answered ${res.statusCode}`)); socket.terminate() })
      socket.on('error', (err) => { if (!ready) reject(err) })
      socket.on('close', (code, reason) => {
        if (!ready) reject(new Error(`${this.user}: closed ${code} ${reason.toString()} before status`))
        else this.closed(socket, code, reason.toString())
      })
      socket.on('message', (raw: Buffer) => {
        if (ignored(raw)) return
        let frame: Frame
        try {
          frame = JSON.parse(raw.toString())
        } catch {
          return
        }
        if (frame.event === 'new_message') {
          const m = frame.data as unknown as NewMessageData
          const last = this.rooms.get(m.room)
          if (last !== undefined && m.seq > last) this.rooms.set(m.room, m.seq)
          this.onMessage?.(m)
        } else if (SEQUENCED.has(frame.event)) {
          const { room, seq } = frame.data as { room: string, seq: number }
          const last = this.rooms.get(room)
          if (last !== undefined && seq > last) this.rooms.set(room, seq)
          this.onEvent?.(frame.event, frame.data)
        } else if (frame.event === 'status' && !ready) {
          ready = true
          resolve()
        } else {
          this.answer(frame)
        }
      })
    })
  }

  private answer (frame: Frame): void {
    if (frame.event === 'room_joined') {
      const joined = frame.data as unknown as RoomJoinedData
      if (!this.rooms.has(joined.room)) this.rooms.set(joined.room, joined.lastSeq)
      this.joinedWaiters.get(joined.room)?.(joined)
      this.joinedWaiters.delete(joined.room)
      return
    }
    const waiting = frame.id === undefined ? undefined : this.pending.get(frame.id)
    if (!waiting) return
    this.pending.delete(frame.id!)
    if (frame.event === 'ack') waiting.resolve(frame.data)
    else if (frame.event === 'error') waiting.reject(new RequestError(waiting.event, frame.data))
  }

  private closed (socket: WebSocket, code: number, reason: string): void {
    if (socket !== this.socket) return
    for (const p of this.pending.values()) p.reject(new Error(`${this.user}: connection closed (${code})`))
    this.pending.clear()
    if (this.closing) return
    const why = `${code}${reason ? ` ${reason}` : ''}`
    if (!RESUMABLE.has(code)) {
      this.closedBy = why
      return
    }
    // As a Skein client does: reconnect and rejoin every room after the last seq seen.
    this.resumes.push(why)
    this.open()
      .then(async () => {
        await Promise.all([...this.rooms].map(([room, afterSeq]) => this.request('join_room', { room, afterSeq })))
      })
      .catch((err: unknown) => { this.closedBy = `${why}; the resume failed: ${err instanceof Error ? err.message : String(err)}` })
  }

  async request (event: string, data: Record<string, unknown>): Promise<Record<string, unknown>> {
    const id = String(++this.nextId)
    return await new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, event })
      this.socket!.send(JSON.stringify({ event, data, id }), (err) => {
        if (err) {
          this.pending.delete(id)
          reject(err)
        }
      })
    })
  }

  async createRoom (room: string): Promise<Record<string, unknown>> {
    return await this.request('create_room', { room })
  }

  async join (room: string): Promise<RoomJoinedData> {
    const joined = new Promise<RoomJoinedData>((resolve) => this.joinedWaiters.set(room, resolve))
    await this.request('join_room', { room })
    return await timeout(joined, CONNECT_TIMEOUT_MS, `${this.user}: room_joined for ${room}`)
  }

  async send (room: string, text: string): Promise<MessageAck> {
    return await this.request('message', { room, text }) as unknown as MessageAck
  }

  async close (): Promise<void> {
    this.closing = true
    const socket = this.socket
    if (!socket || socket.readyState === WebSocket.CLOSED) return
    const gone = new Promise<void>((resolve) => socket.once('close', () => resolve()))
    socket.close(1000)
    const timer = setTimeout(() => socket.terminate(), 2_000)
    await gone
    clearTimeout(timer)
  }
}

/** A socket.io 4.8 client over the websocket transport only (no long-polling first), one Manager each. */
export function socketIoConnector (baseUrl: string, token: (user: string) => string): Connect {
  return async (user) => {
    const socket = ioClient(baseUrl, { transports: ['websocket'], forceNew: true, reconnection: false, auth: { token: token(user) } })
    const client = new SocketIoRoomClient(user, socket)
    await timeout(new Promise<void>((resolve, reject) => {
      socket.once('status', () => resolve())
      socket.once('connect_error', (err) => reject(new Error(`${user}: ${err.message}`)))
    }), CONNECT_TIMEOUT_MS, `connecting ${user} to ${baseUrl}`).catch((err: unknown) => {
      socket.close()
      throw err
    })
    return client
  }
}

class SocketIoRoomClient implements RoomClient {
  onMessage: ((message: NewMessageData) => void) | undefined
  /** The socket.io baseline sends no other sequenced events. */
  onEvent: ((event: string, data: Record<string, unknown>) => void) | undefined
  closedBy: string | undefined
  readonly resumes: string[] = []
  private readonly joinedWaiters = new Map<string, (data: RoomJoinedData) => void>()
  private closing = false

  constructor (readonly user: string, private readonly socket: Socket) {
    socket.on('new_message', (data: NewMessageData) => this.onMessage?.(data))
    socket.on('room_joined', (data: RoomJoinedData) => {
      this.joinedWaiters.get(data.room)?.(data)
      this.joinedWaiters.delete(data.room)
    })
    socket.on('disconnect', (reason) => { if (!this.closing) this.closedBy = reason })
  }

  async request (event: string, data: Record<string, unknown>): Promise<Record<string, unknown>> {
    return await new Promise((resolve, reject) => {
      this.socket.emit(event, data, (answer: Record<string, unknown>) => {
        if (answer.error) reject(new RequestError(event, answer.error))
        else resolve(answer)
      })
    })
  }

  async createRoom (room: string): Promise<Record<string, unknown>> {
    return await this.request('create_room', { room })
  }

  async join (room: string): Promise<RoomJoinedData> {
    const joined = new Promise<RoomJoinedData>((resolve) => this.joinedWaiters.set(room, resolve))
    await this.request('join_room', { room })
    return await timeout(joined, CONNECT_TIMEOUT_MS, `${this.user}: room_joined for ${room}`)
  }

  async send (room: string, text: string): Promise<MessageAck> {
    return await this.request('message', { room, text }) as unknown as MessageAck
  }

  async close (): Promise<void> {
    this.closing = true
    if (this.socket.disconnected) return
    const gone = new Promise<void>((resolve) => this.socket.once('disconnect', () => resolve()))
    this.socket.disconnect()
    await timeout(gone, 2_000, `${this.user}: disconnect`).catch(() => {})
  }
}
