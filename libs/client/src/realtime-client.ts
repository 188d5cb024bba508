import type { ClientEventData, ClientEventName, CloseCodes, ServerEventData, ServerEventName, ServerFrame } from '@skein/schemas'
import type { AckData, NewMessageData } from './acks.js'
import { ConnectionLostError, RealtimeError, SkeinError, APIConnectionTimeoutError } from './errors.js'
import { decodeFrame, encodeFrame } from './frames.js'
import { resolveToken, type TokenSource } from './http-client.js'
import { RoomCursors, isSequenced } from './room-cursors.js'

// The schemas' CloseCodes, restated for the browser bundle; `satisfies` keeps them equal.
const CLOSE = { TOKEN_EXPIRED: 4001, SLOW_CONSUMER: 4008, RATE_LIMITED: 4029, GOING_AWAY: 1001 } as const satisfies typeof CloseCodes

/** The part of the WebSocket API the client uses: the browser's, or `ws` in Node. */
export interface WebSocketLike {
  readonly readyState: number
  send: (data: string) => void
  close: (code?: number, reason?: string) => void
  /* eslint-disable @typescript-eslint/no-explicit-any -- browser and ws handler types differ */
  onopen: ((ev: any) => void) | null
  onmessage: ((ev: any) => void) | null
  onclose: ((ev: any) => void) | null
  onerror: ((ev: any) => void) | null
}
export type WebSocketConstructor = new (url: string) => WebSocketLike

/**
 * connecting: the first connection is being made. connected: open, and every room rejoined.
 * reconnecting: the connection was lost and is being made again. offline: several attempts failed (or the
 * browser says it is offline); it keeps trying. closed: `close()` was called.
 */
export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'offline' | 'closed'

export interface ReconnectOptions {
  /** First delay after a lost connection (default 250 ms); doubles per failed attempt, with jitter. */
  initialDelayMs?: number
  /** Longest delay between attempts (default 5000 ms). */
  maxDelayMs?: number
  /** Failed attempts in a row before the state reads offline (default 5: about 5 s of trying). */
  offlineAfter?: number
  /** First delay before a room refused for now (see TRANSIENT_JOIN_CODES) is joined again (default 500 ms); doubles per refusal, with jitter. */
  rejoinDelayMs?: number
  /** Longest delay between two attempts to rejoin a room (default 10 000 ms). */
  rejoinMaxDelayMs?: number
}

/**
 * The join refusals that mean "not now": the threads engine (openai-service) or NATS not answering, the socket
 * closing, an internal failure, the socket's rate exceeded, an expired token (the funnel then closes the socket
 * and the client renews it). Such a room stays followed and is joined again, from its last seq, after a backoff
 * (`rejoinDelayMs`, doubling up to `rejoinMaxDelayMs`) for as long as it is followed and the client open; so is
 * one whose join got no answer within `timeout`. Any other refusal (FUNNEL_ROOM_NOT_FOUND, which a private room
 * one may not see also answers, FUNNEL_TOO_MANY_ROOMS, a validation error) is for good: the room is no longer
 * followed.
 */
export const TRANSIENT_JOIN_CODES: readonly string[] = ['FUNNEL_THREADS_UNAVAILABLE', 'FUNNEL_UNAVAILABLE', 'FUNNEL_CLOSED', 'FUNNEL_TOKEN_EXPIRED', 'FUNNEL_INTERNAL', 'THREADS_INTERNAL', 'FUNNEL_RATE_LIMITED']
const transientJoinCodes: ReadonlySet<string> = new Set(TRANSIENT_JOIN_CODES)

export interface RealtimeOptions {
  /** The funnel's base URL (`http://…`); the socket is `ws://…/ws?token=`. */
  baseURL: string
  token?: TokenSource
  WebSocket?: WebSocketConstructor
  /** Milliseconds a request waits for its ack (default 20 000). */
  timeout?: number
  reconnect?: ReconnectOptions
  /** Rooms to rejoin on connect, with the last seq seen in each (from `cursors()` before a page reload). */
  resume?: Record<string, number>
}

/** The log no longer holds what came after the client's cursor: reload the room over HTTP. */
export interface ResumeGap { room: string, oldestSeq: number, message: string }
/**
 * `error`: a refusal no request was waiting for. With `room`: the funnel refused for good to rejoin a room the
 * client followed (after a reconnection, say) and no `join()` was waiting to hear it; the room is no longer
 * followed. A refusal for now (TRANSIENT_JOIN_CODES) is not reported: the room is joined again by itself.
 */
export type ErrorEventData = ServerEventData<'error'> & { room?: string }
/** What `on()` listens to: the server's events, and `resume_gap` from the client itself. */
export type EventName = ServerEventName | 'resume_gap'
/** What `on()` listeners get: the server events, with `new_message` carrying the sender's client id. */
export type EventData<E extends EventName> = E extends 'resume_gap'
  ? ResumeGap
  : E extends 'new_message' ? NewMessageData : E extends 'error' ? ErrorEventData : E extends ServerEventName ? ServerEventData<E> : never
type Listener<E extends EventName> = (data: EventData<E>) => void
type RoomJoined = ServerEventData<'room_joined'>

interface Pending { resolve: (data: Record<string, unknown>) => void, reject: (err: Error) => void, timer: ReturnType<typeof setTimeout> }
/** One waiting for a room's room_joined: the app's join() (`app`), or the client's own rejoin (answering join_room `id`). */
interface Joining { resolve: (data: RoomJoined) => void, reject: (err: Error) => void, id: string | null, app: boolean }
/** A join_room sent on the current socket, until its ack or error (`timer` runs until room_joined shows the funnel answering). */
interface JoinRequest { room: string, timer: ReturnType<typeof setTimeout> | null }

/**
 * One WebSocket to the funnel that reconnects by itself and resumes losslessly: on every (re)connection it
 * rejoins each room with `afterSeq` = the last seq it delivered there, and drops any sequenced event it has
 * already delivered, so a stream cut by a lost connection ends complete, with nothing twice. A rejoin refused
 * for now (TRANSIENT_JOIN_CODES) is tried again with backoff; one refused for good drops the room and is
 * reported as an `error` event with its `room`.
 */
export class RealtimeClient {
  state: ConnectionState = 'idle'
  /** The server's `status` frame of the current connection (user, session, expiry). */
  session: ServerEventData<'status'> | null = null
  /** Sequenced events dropped because they had been delivered already. */
  duplicatesDropped = 0
  /** Connections opened so far (the first one included). */
  connections = 0

  private readonly cursors: RoomCursors
  private readonly wsUrl: string
  private readonly timeout: number
  private readonly reconnect: Required<ReconnectOptions>
  private socket: WebSocketLike | null = null
  private get WebSocket (): WebSocketConstructor | undefined {
    return this.opts.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket
  }
  private wanted = false
  private synced = false
  private failures = 0
  private refreshToken = false
  private retryTimer: ReturnType<typeof setTimeout> | null = null
  private nextId = 0
  private readonly pending = new Map<string, Pending>()
  private readonly joining = new Map<string, Joining[]>()
  private readonly joinRequests = new Map<string, JoinRequest>()
  /** Rooms refused for now: the timer that joins each again, and the refusals in a row (the backoff's exponent). */
  private readonly rejoinTimers = new Map<string, ReturnType<typeof setTimeout>>()
  private readonly rejoinAttempts = new Map<string, number>()
  private readonly waitingForSync: Array<() => void> = []
  private readonly listeners = new Map<string, Set<(data: never) => void>>()
  private readonly stateListeners = new Set<(state: ConnectionState) => void>()

  constructor (private readonly opts: RealtimeOptions) {
    this.cursors = new RoomCursors(opts.resume)
    this.wsUrl = opts.baseURL.replace(/\/+$/, '').replace(/^http/, 'ws') + '/ws'
    this.timeout = opts.timeout ?? 20_000
    this.reconnect = { initialDelayMs: 250, maxDelayMs: 5_000, offlineAfter: 5, rejoinDelayMs: 500, rejoinMaxDelayMs: 10_000, ...opts.reconnect }
  }

  // In a browser: back online → try at once; offline → say so (while not connected).
  private readonly onOnline = (): void => { if (this.wanted && !this.socket) this.retryNow() }
  private readonly onOffline = (): void => { if (this.wanted && !this.synced) this.setState('offline') }
  private watchNetwork (on: boolean): void {
    const g = globalThis as { addEventListener?: (type: string, fn: () => void) => void, removeEventListener?: (type: string, fn: () => void) => void }
    const method = on ? g.addEventListener : g.removeEventListener
    method?.call(globalThis, 'online', this.onOnline)
    method?.call(globalThis, 'offline', this.onOffline)
  }

  // ── lifecycle ─────────────────────────────────────────────────────────────────────────────────────────────

  /** Opens the socket (once: later calls do nothing) and keeps it open until close(). */
  connect (): void {
    if (this.wanted) return
    if (!this.WebSocket) throw new SkeinError('no WebSocket implementation: pass one as the WebSocket option (e.g. the ws package in Node 20)')
    this.wanted = true
    this.watchNetwork(true)
    void this.open()
  }

  /** Closes the socket for good: pending requests fail, nothing reconnects. */
  close (): void {
    if (this.wanted) this.watchNetwork(false)
    this.wanted = false
    if (this.retryTimer) clearTimeout(this.retryTimer)
    this.retryTimer = null
    const socket = this.socket
    this.socket = null
    this.synced = false
    socket?.close(1000, 'closed by the client')
    this.failAll(new ConnectionLostError('the client closed the connection'))
    this.dropJoinRequests()
    for (const waiters of this.joining.values()) for (const j of waiters) j.reject(new ConnectionLostError('the client closed the connection'))
    this.joining.clear()
    this.rejoinAttempts.clear()
    this.setState('closed')
  }

  /** Tries again at once instead of waiting for the next attempt. */
  retryNow (): void {
    if (!this.wanted || this.socket) return
    if (this.retryTimer) clearTimeout(this.retryTimer)
    this.retryTimer = null
    void this.open()
  }

  onState (fn: (state: ConnectionState) => void): () => void {
    this.stateListeners.add(fn)
    return () => { this.stateListeners.delete(fn) }
  }

  /** Listens to a server event (sequenced ones once each, in seq order within a room). */
  on<E extends EventName> (event: E, fn: Listener<E>): () => void {
    let set = this.listeners.get(event)
    if (!set) this.listeners.set(event, set = new Set())
    set.add(fn as (data: never) => void)
    return () => { set.delete(fn as (data: never) => void) }
  }

  /** room → last seq delivered: pass it back as `resume` to carry on after a page reload. */
  positions (): Record<string, number> { return this.cursors.snapshot() }
  rooms (): string[] { return this.cursors.rooms() }

  private setState (state: ConnectionState): void {
    if (this.state === state) return
    this.state = state
    for (const fn of this.stateListeners) fn(state)
  }

  private async open (): Promise<void> {
    this.retryTimer = null
    if (!this.wanted || this.socket) return
    this.setState(this.connections === 0 ? 'connecting' : this.failures >= this.reconnect.offlineAfter || isOffline() ? 'offline' : 'reconnecting')
    let token: string | undefined
    try {
      token = await resolveToken(this.opts.token, this.refreshToken)
    } catch {
      this.scheduleRetry()
      return
    }
    if (!this.wanted || this.socket) return
    this.refreshToken = false
    const socket = new this.WebSocket!(`${this.wsUrl}${token ? `?token=${encodeURIComponent(token)}` : ''}`)
    this.socket = socket
    this.connections++
    socket.onmessage = (ev: { data: unknown }) => {
      if (this.socket !== socket) return
      const f = typeof ev.data === 'string' ? decodeFrame(ev.data) : null
      if (f) this.onFrame(f)
    }
    socket.onclose = (ev: { code?: number }) => { this.onClose(socket, ev.code ?? 1006) }
    socket.onerror = () => {}
  }

  private onClose (socket: WebSocketLike, code: number): void {
    if (this.socket !== socket) return
    this.socket = null
    this.session = null
    const wasSynced = this.synced
    this.synced = false
    this.failAll(new ConnectionLostError(`the connection closed (${code}) before the answer came: the request may or may not have been carried out`))
    // Its joins are lost with it; the rooms are rejoined on the next connection, where the app's join() waits on.
    this.dropJoinRequests()
    for (const [room, waiters] of this.joining) {
      for (const j of waiters) if (!j.app) j.reject(new ConnectionLostError(`the connection closed (${code}) before room ${room} was joined`))
      this.joining.set(room, waiters.filter((j) => j.app))
    }
    if (!this.wanted) return
    if (!wasSynced) this.failures++
    if (code === CLOSE.TOKEN_EXPIRED) this.refreshToken = true
    const delay = code === CLOSE.TOKEN_EXPIRED || code === CLOSE.SLOW_CONSUMER
      ? 0
      : code === CLOSE.RATE_LIMITED
        ? this.reconnect.maxDelayMs
        : code === CLOSE.GOING_AWAY ? 100 + Math.random() * 400 : this.backoff()
    this.setState(this.failures >= this.reconnect.offlineAfter || isOffline() ? 'offline' : 'reconnecting')
    this.scheduleRetry(delay)
  }

  private backoff (): number {
    const { initialDelayMs, maxDelayMs } = this.reconnect
    return Math.min(maxDelayMs, initialDelayMs * 2 ** Math.max(0, this.failures - 1)) * (0.5 + Math.random() / 2)
  }

  private scheduleRetry (delay = this.backoff()): void {
    if (!this.wanted || this.retryTimer) return
    this.retryTimer = setTimeout(() => { void this.open() }, delay)
  }

  /** After `status`: every room is rejoined where it left off, then queued requests go out. */
  private async resync (socket: WebSocketLike): Promise<void> {
    // Rooms joined while this runs are taken in the next round.
    const done = new Set<string>()
    for (;;) {
      const todo = this.cursors.rooms().filter((room) => !done.has(room))
      if (!todo.length) break
      for (const room of todo) done.add(room)
      await Promise.allSettled(todo.map((room) => this.sendJoin(room)))
      if (this.socket !== socket) return
    }
    this.synced = true
    this.failures = 0
    this.setState('connected')
    for (const go of this.waitingForSync.splice(0)) go()
  }

  // ── frames ────────────────────────────────────────────────────────────────────────────────────────────────

  private onFrame (f: ServerFrame): void {
    const data = f.data as Record<string, unknown>
    switch (f.event) {
      case 'status':
        this.session = f.data as ServerEventData<'status'>
        void this.resync(this.socket!)
        return
      case 'ack':
      case 'error':
        if (f.id && this.settle(f.id, f.event, data)) return
        break
      case 'room_joined': {
        const joined = f.data as RoomJoined
        this.cursors.joined(joined.room, joined.lastSeq)
        // The funnel is answering: the replay that follows may take as long as it needs.
        for (const r of this.joinRequests.values()) {
          if (r.room !== joined.room || !r.timer) continue
          clearTimeout(r.timer)
          r.timer = null
        }
        for (const j of this.joining.get(joined.room)?.splice(0) ?? []) j.resolve(joined)
        break
      }
      case 'room_left': {
        // The funnel put us out of a room we still follow (its replay could not finish): back in, from our cursor.
        const { room } = f.data as { room: string }
        if (this.cursors.has(room)) this.scheduleRejoin(room)
        break
      }
    }
    if (isSequenced(f.event)) {
      const { room, seq } = data as { room: string, seq: number }
      if (!this.cursors.accept(room, seq)) {
        this.duplicatesDropped++
        return
      }
    }
    this.emit(f.event, f.data)
  }

  private emit (event: string, data: unknown): void {
    for (const fn of this.listeners.get(event) ?? []) fn(data as never)
  }

  /** An ack or error answering a request (or a join); true when one was waiting for it. */
  private settle (id: string, event: 'ack' | 'error', data: Record<string, unknown>): boolean {
    const join = this.joinRequests.get(id)
    if (join) {
      this.joinRequests.delete(id)
      if (join.timer) clearTimeout(join.timer)
      if (event === 'error') {
        this.onJoinError(join.room, id, data)
      } else {
        // Joined and caught up (room_joined resolved the waiters already): the backoff starts over.
        this.cancelRejoin(join.room)
      }
      return true
    }
    const p = this.pending.get(id)
    if (!p) return false
    this.pending.delete(id)
    clearTimeout(p.timer)
    if (event === 'ack') p.resolve(data)
    else p.reject(realtimeError(data, id))
    return true
  }

  private onJoinError (room: string, id: string, data: Record<string, unknown>): void {
    if (data.code === 'resume_gap' && typeof data.oldestSeq === 'number') {
      // The log no longer holds what came after our cursor: say so (the app reloads the room over HTTP),
      // then carry on from the oldest event kept.
      const gap: ResumeGap = { room, oldestSeq: data.oldestSeq, message: String(data.message ?? '') }
      this.emit('resume_gap', gap)
      this.cursors.untrack(room)
      this.cursors.track(room, data.oldestSeq - 1)
      void this.sendJoin(room).catch(() => {})
      return
    }
    const err = realtimeError(data, id)
    if (transientJoinCodes.has(err.code)) this.joinFailed(room, id, err)
    else this.joinRefused(room, err)
  }

  /** A join refused for now (or unanswered): the room stays followed and is joined again after a backoff. */
  private joinFailed (room: string, id: string, err: Error): void {
    const waiters = this.joining.get(room)
    if (waiters) {
      // The client's own rejoin lets go (a reconnection's resync must not wait on it); the app's join() waits on.
      for (const j of waiters) if (j.id === id && !j.app) j.reject(err)
      this.joining.set(room, waiters.filter((j) => j.id !== id || j.app))
    }
    this.scheduleRejoin(room)
  }

  /** A join refused for good: the room is no longer followed; the app hears of it from its join(), or an `error` event. */
  private joinRefused (room: string, err: RealtimeError): void {
    const followed = this.cursors.has(room)
    const waiters = this.unfollow(room, err)
    if (followed && !waiters.some((j) => j.app)) {
      const data: ErrorEventData = { code: err.code, message: err.message, room }
      this.emit('error', data)
    }
  }

  private scheduleRejoin (room: string): void {
    const socket = this.socket
    if (!this.wanted || !socket || !this.cursors.has(room) || this.rejoinTimers.has(room)) return
    const attempt = this.rejoinAttempts.get(room) ?? 0
    this.rejoinAttempts.set(room, attempt + 1)
    const { rejoinDelayMs, rejoinMaxDelayMs } = this.reconnect
    const delay = Math.min(rejoinMaxDelayMs, rejoinDelayMs * 2 ** attempt) * (0.5 + Math.random() / 2)
    this.rejoinTimers.set(room, setTimeout(() => {
      this.rejoinTimers.delete(room)
      // On another connection the resync rejoins every followed room.
      if (this.socket === socket && this.wanted && this.cursors.has(room)) void this.sendJoin(room).catch(() => {})
    }, delay))
  }

  /** Cancels a planned rejoin of the room; its backoff starts over. */
  private cancelRejoin (room: string): void {
    const timer = this.rejoinTimers.get(room)
    if (timer) clearTimeout(timer)
    this.rejoinTimers.delete(room)
    this.rejoinAttempts.delete(room)
  }

  /** Stops following a room: no rejoin after a reconnection, none planned; its waiting joins fail with `err` (returned). */
  private unfollow (room: string, err: Error): Joining[] {
    this.cursors.untrack(room)
    this.cancelRejoin(room)
    const waiters = this.joining.get(room) ?? []
    this.joining.delete(room)
    for (const j of waiters) j.reject(err)
    return waiters
  }

  /** Forgets the joins in flight and the rejoins planned on the current socket (closing, or closed). */
  private dropJoinRequests (): void {
    for (const r of this.joinRequests.values()) if (r.timer) clearTimeout(r.timer)
    this.joinRequests.clear()
    for (const timer of this.rejoinTimers.values()) clearTimeout(timer)
    this.rejoinTimers.clear()
  }

  private failAll (err: Error): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer)
      p.reject(err)
      this.pending.delete(id)
    }
  }

  // ── requests ──────────────────────────────────────────────────────────────────────────────────────────────

  private id (): string { return `c${Date.now().toString(36)}-${(++this.nextId).toString(36)}` }

  private async whenSynced (timeoutMs: number): Promise<void> {
    if (this.synced) return
    if (!this.wanted) throw new ConnectionLostError('not connected: call connect() first')
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waitingForSync.indexOf(go)
        if (i >= 0) this.waitingForSync.splice(i, 1)
        reject(new APIConnectionTimeoutError(`not connected within ${timeoutMs} ms`))
      }, timeoutMs)
      const go = (): void => { clearTimeout(timer); resolve() }
      this.waitingForSync.push(go)
    })
  }

  /**
   * Sends a client event and resolves with its ack (rejects with a RealtimeError for an `error` frame, or a
   * ConnectionLostError when the socket closes first). While (re)connecting it waits for the connection.
   */
  async request<E extends Exclude<ClientEventName, 'join_room'>> (event: E, data: ClientEventData<E>, opts: { id?: string, timeoutMs?: number } = {}): Promise<AckData[E]> {
    const timeoutMs = opts.timeoutMs ?? this.timeout
    await this.whenSynced(timeoutMs)
    const socket = this.socket!
    const id = opts.id ?? this.id()
    const answer = new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new APIConnectionTimeoutError(`${event}: no answer within ${timeoutMs} ms`))
      }, timeoutMs)
      this.pending.set(id, { resolve, reject, timer })
    })
    socket.send(encodeFrame(event, data, id))
    const ack = await answer
    if (event === 'leave_room') this.cursors.untrack((data as ClientEventData<'leave_room'>).room)
    return ack as AckData[E]
  }

  /** Sends a volatile event (typing) when connected; dropped otherwise, as it would be stale anyway. */
  notify<E extends 'typing'> (event: E, data: ClientEventData<E>): void {
    if (this.synced && this.socket) this.socket.send(encodeFrame(event, data))
  }

  /**
   * Posts a message. Its `clientId` (given, or made here) comes back on the `new_message` the others get, and
   * on a replay to this user: how a message whose ack was lost with the connection is recognised.
   */
  async send (room: string, text: string, opts: { clientId?: string } = {}): Promise<AckData['message'] & { clientId: string }> {
    const clientId = opts.clientId ?? this.id()
    const ack = await this.request('message', { room, text }, { id: clientId })
    return { ...ack, clientId }
  }

  /**
   * Joins a room and follows it from then on, across reconnections. With `afterSeq` the room's events after
   * it are replayed first (events this client has already delivered are not delivered again).
   *
   * Resolves once the room is joined, however long the connection and the funnel take: a refusal for now
   * (TRANSIENT_JOIN_CODES, or no answer within `timeout`) is tried again with backoff. Rejects with a
   * RealtimeError when the room is refused for good (it is then not followed), with a ConnectionLostError on
   * close(), and with a SkeinError when leave() gives up on the room first.
   */
  async join (room: string, opts: { afterSeq?: number } = {}): Promise<RoomJoined> {
    const fresh = !this.cursors.has(room)
    this.cursors.track(room, opts.afterSeq)
    if (!this.wanted) throw new ConnectionLostError('not connected: call connect() first')
    // Not synced yet: the room is rejoined with the others once the connection is up.
    if (!this.synced) {
      return await new Promise<RoomJoined>((resolve, reject) => {
        const list = this.joining.get(room) ?? []
        list.push({ resolve, reject, id: null, app: true })
        this.joining.set(room, list)
      })
    }
    return await this.sendJoin(room, fresh ? opts.afterSeq : opts.afterSeq ?? this.cursors.afterSeq(room), true)
  }

  private async sendJoin (room: string, afterSeq = this.cursors.afterSeq(room), app = false): Promise<RoomJoined> {
    const socket = this.socket
    if (!socket) throw new ConnectionLostError('not connected')
    const id = this.id()
    const joined = new Promise<RoomJoined>((resolve, reject) => {
      const list = this.joining.get(room) ?? []
      list.push({ resolve, reject, id, app })
      this.joining.set(room, list)
    })
    const timer = setTimeout(() => {
      if (!this.joinRequests.delete(id)) return
      this.joinFailed(room, id, new APIConnectionTimeoutError(`join_room ${room}: no answer within ${this.timeout} ms`))
    }, this.timeout)
    this.joinRequests.set(id, { room, timer })
    socket.send(encodeFrame('join_room', afterSeq === undefined ? { room } : { room, afterSeq }, id))
    return await joined
  }

  /** Leaves a room: no more events from it, and it is not rejoined after a reconnection (nor retried). */
  async leave (room: string): Promise<void> {
    this.unfollow(room, new SkeinError(`left room ${room} before it was joined`))
    if (this.synced) await this.request('leave_room', { room })
  }
}

function realtimeError (data: Record<string, unknown>, id: string | undefined): RealtimeError {
  return new RealtimeError(String(data.message ?? 'the request failed'), String(data.code ?? 'UNKNOWN'), id, typeof data.oldestSeq === 'number' ? data.oldestSeq : undefined)
}

function isOffline (): boolean {
  return (globalThis as { navigator?: { onLine?: boolean } }).navigator?.onLine === false
}
