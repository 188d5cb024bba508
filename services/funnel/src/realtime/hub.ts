import { randomUUID } from 'node:crypto'
import { jetstream, type JetStreamClient, type JsMsg } from '@nats-io/jetstream'
import type { NatsConnection, Subscription } from '@nats-io/transport-node'
import type { FastifyBaseLogger } from 'fastify'
import type { WebSocket } from 'ws'
import { PublishFailedError, busHeaders, patiently, publishOnce, subjects } from '@skein/bus'
import { CloseCodes, TERMINAL_STATUSES, type RealtimeStats, type ServerEventData, type ServerEventName, type ThreadEventPayload, type ThreadRecord, type ThreadStatus, type ThreadsRpcOp, type ThreadsRpcReply } from '@skein/schemas'
import { WsError } from './errors.js'
import { framesFor, isLifecycle, parseSubject, roomsFor, type RoomFrame } from './event-map.js'
import { LocalRoom } from './local-room.js'
import { Session, type RoomCursor, type SessionLimits } from './session.js'
import { ThreadFeed } from './thread-feed.js'
import { wireFrame } from './wire.js'

export interface HubOptions extends SessionLimits {
  /** This funnel, in presence and stats: "<host>:<pid>:<random>". */
  instance: string
  heartbeatMs: number
  maxRoomsPerSocket: number
  requestTimeoutMs: number
  presenceIntervalMs: number
  statsWaitMs: number
}

/** Live events queued for one socket while its room is replayed; past this the replay reads them from the log. */
const PENDING_LIMIT = 10_000
/** Presence changes within this time go out as one frame (and one announcement to the other funnels). */
const PRESENCE_BATCH_MS = 250
/** How often sockets are checked for an expired token (they are closed within this of the expiry). */
const TOKEN_SWEEP_MS = 1_000
/** Why a message's publish is not tried again: the feed showed it stored (a reason of our own, so abort() builds no DOMException). */
const SHOWN_BY_FEED = 'the room\'s feed showed the message stored'
/** A presence frame lists this many members at most; `memberCount` says how many there are. */
const LISTED_MEMBERS = 100

interface RemoteMembers { users: string[], expires: number }
interface StatsAnswer { kind: string, instance: string, users?: string[], sockets?: number, rooms?: string[], generations?: Record<string, number> }

export const frame = <E extends ServerEventName>(event: E, data: ServerEventData<E>, id?: string): string =>
  JSON.stringify(id === undefined ? { event, data } : { event, id, data })

/**
 * The funnel's realtime core: the sockets it serves, the rooms they are in, the live thread events fed to
 * those rooms (with lossless replay from the log on join), presence and typing shared with the other funnels
 * over NATS, cluster-wide stats, and the requests it makes of the threads engine.
 */
export class RealtimeHub {
  readonly sessions = new Set<Session>()
  /** The rooms with at least one socket here. */
  private readonly rooms = new Map<string, LocalRoom>()
  /** Rooms' members on the other funnels. */
  private readonly remote = new Map<string, Map<string, RemoteMembers>>()
  private readonly feed: ThreadFeed
  private readonly js: JetStreamClient
  private readonly subs: Subscription[] = []
  private timers: NodeJS.Timeout[] = []

  get instance (): string {
    return this.opts.instance
  }

  constructor (private readonly nc: NatsConnection, private readonly opts: HubOptions, private readonly log: FastifyBaseLogger) {
    this.feed = new ThreadFeed(nc, log)
    this.js = jetstream(nc)
  }

  async start (): Promise<void> {
    await this.feed.start((m) => this.onThreadEvent(m))
    this.subs.push(this.nc.subscribe(subjects.allRoomVolatile, { callback: (err, m) => { if (!err) this.onVolatile(m.subject, m.data) } }))
    this.subs.push(this.nc.subscribe(subjects.presenceSync, { callback: (err, m) => { if (!err && m.string() !== this.opts.instance) this.announceAll() } }))
    this.subs.push(this.nc.subscribe(subjects.statsRequest, { callback: (err, m) => { if (!err) m.respond(JSON.stringify(this.localStats())) } }))
    this.nc.publish(subjects.presenceSync, this.opts.instance)
    this.timers.push(setInterval(() => this.heartbeat(), this.opts.heartbeatMs))
    // One sweep a second closes the sockets whose token has expired (a timer per socket costs each one memory).
    this.timers.push(setInterval(() => this.closeExpired(), TOKEN_SWEEP_MS))
    this.timers.push(setInterval(() => { this.announceAll(); this.expireRemote() }, this.opts.presenceIntervalMs))
    for (const t of this.timers) t.unref()
  }

  /** Closes every socket (1001: reconnect elsewhere and resume), tells the other funnels, stops following. */
  async stop (): Promise<void> {
    for (const t of this.timers) clearInterval(t)
    this.timers = []
    for (const s of this.sessions) s.close(CloseCodes.GOING_AWAY, 'the funnel is shutting down: reconnect and rejoin with afterSeq')
    for (const room of this.rooms.values()) {
      room.dispose()
      if (!this.nc.isClosed()) this.nc.publish(subjects.roomVolatile(room.id, 'presence'), JSON.stringify({ funnel: this.opts.instance, users: [] }))
    }
    for (const sub of this.subs) sub.unsubscribe()
    await this.feed.stop()
  }

  // ── sockets ──────────────────────────────────────────────────────────────────────────────────────────────

  connect (socket: WebSocket, user: string, expiresAt: number, requestId: string): Session {
    const s = new Session(randomUUID(), user, expiresAt, socket, this.opts, requestId)
    this.sessions.add(s)
    return s
  }

  disconnect (s: Session): void {
    if (!this.sessions.delete(s)) return
    s.dispose()
    for (const room of [...s.rooms.keys()]) this.removeFromRoom(s, room)
  }

  private closeExpired (): void {
    const now = Date.now()
    for (const s of this.sessions) {
      if (s.expiresAt <= now) s.close(CloseCodes.TOKEN_EXPIRED, 'token expired: get a new one, reconnect and rejoin with afterSeq')
    }
  }

  /** Pings every socket; one that did not answer the last ping is gone (a half-open connection). */
  private heartbeat (): void {
    for (const s of this.sessions) {
      if (!s.alive) {
        s.socket.terminate()
        this.disconnect(s)
        continue
      }
      s.alive = false
      try {
        s.socket.ping()
      } catch {
        this.disconnect(s)
      }
    }
  }

  // ── rooms ────────────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Joins a room after the threads engine says the user may (a private room needs membership). From here on
   * live events for the room queue up for this socket until `catchUp` has replayed what came after
   * `afterSeq` (or nothing, without it) and sent the queue: no event is lost or repeated at the seam.
   */
  async join (s: Session, room: string, afterSeq: number | undefined, requestId: string): Promise<ServerEventData<'room_joined'>> {
    if (s.expired) throw new WsError('FUNNEL_TOKEN_EXPIRED', 'the token has expired: get a new one, reconnect and rejoin with afterSeq')
    if (!s.rooms.has(room) && s.rooms.size >= this.opts.maxRoomsPerSocket) {
      throw new WsError('FUNNEL_TOO_MANY_ROOMS', `a socket may be in ${this.opts.maxRoomsPerSocket} rooms at once (WS_MAX_ROOMS_PER_SOCKET): leave one first`)
    }
    const thread = await this.request<ThreadRecord>('get', s.user, { thread: room }, requestId)
    // The main room and private rooms show other threads' lifecycle events too: their replay reads the whole log.
    const wide = thread.kind === 'main' || thread.private === true
    if (afterSeq !== undefined) await this.mustStillHave(room, wide, afterSeq)
    if (s.closed) throw new WsError('FUNNEL_CLOSED', 'the socket closed')
    if (s.rooms.has(room)) this.removeFromRoom(s, room)
    // From this line to the end nothing awaits: registration and the join answer are one step.
    const upTo = this.feed.lastSeq
    s.rooms.set(room, { lastSent: afterSeq ?? upTo, pending: [], overflowed: false, upTo, wide })
    let local = this.rooms.get(room)
    if (!local) this.rooms.set(room, local = new LocalRoom(room, thread.status))
    local.status = thread.status
    // The joiner learns the members from room_joined; the others (and the other funnels) a moment later.
    if (local.add(s)) this.membersChanged(local)
    const members = this.members(room)
    return {
      room,
      members: members.slice(0, LISTED_MEMBERS),
      memberCount: members.length,
      lastSeq: Math.max(upTo, afterSeq ?? 0),
      thread: { kind: thread.kind, status: thread.status, task: thread.task, private: thread.private === true }
    }
  }

  /** Sends what the room logged after the socket's cursor, then the events that queued meanwhile; then live. */
  async catchUp (s: Session, room: string): Promise<void> {
    const cursor = s.rooms.get(room)
    if (!cursor) return
    let upTo = cursor.upTo
    for (;;) {
      // A replay cut short (a NATS node lost, a leader being elected) goes on from the last event it sent.
      await this.patiently('the room\'s replay', () => this.feed.replay(room, cursor.wide, cursor.lastSent, upTo, async (m) => {
        for (const f of this.framesOf(m.json<ThreadEventPayload>(), m.seq, room)) {
          if (s.closed || s.rooms.get(room) !== cursor) return
          if (f.seq <= cursor.lastSent) continue
          await s.drained()
          cursor.lastSent = f.seq
          s.send(f.frame)
        }
      }))
      if (s.closed || s.rooms.get(room) !== cursor) return
      if (!cursor.overflowed) break
      // More arrived during the replay than a socket may queue: read that stretch from the log as well.
      cursor.overflowed = false
      cursor.pending = []
      upTo = this.feed.lastSeq
    }
    const queued = cursor.pending ?? []
    cursor.pending = null
    for (const f of queued) this.sendTo(s, cursor, f)
  }

  /**
   * Refuses a resume from `afterSeq` (0: from the start) when the log no longer holds all of the room's events
   * after it: resume_gap, naming the oldest seq still kept, never a silent hole. The log loses its oldest
   * events first, so a room whose first event (`created`) is still there has lost none; a wide room (main, a
   * private room) shows other threads' events too, so any event gone after `afterSeq` is a gap.
   */
  private async mustStillHave (room: string, wide: boolean, afterSeq: number): Promise<void> {
    const { firstSeq } = await this.patiently('the log\'s bounds', () => this.feed.bounds())
    if (afterSeq + 1 >= firstSeq) return
    if (!wide && await this.patiently('the room\'s first event', () => this.feed.keepsStartOf(room))) return
    throw new WsError('resume_gap', `events after ${afterSeq} are no longer kept; the oldest is ${firstSeq}: reload the room's messages over HTTP, then rejoin with afterSeq ${firstSeq - 1}`, { oldestSeq: firstSeq })
  }

  /**
   * Runs a JetStream read again while NATS is briefly away (a restart, a node lost, a leader being elected),
   * for up to WS_REQUEST_TIMEOUT_MS; then the client is told to try again.
   */
  private async patiently<V> (what: string, read: () => Promise<V>): Promise<V> {
    try {
      return await patiently(read, this.opts.requestTimeoutMs)
    } catch (err) {
      this.log.warn({ err: err instanceof Error ? err.message : err, what }, 'NATS did not answer in time')
      throw new WsError('FUNNEL_UNAVAILABLE', `${what} could not be read (NATS is not answering): join again with afterSeq in a moment`)
    }
  }

  leave (s: Session, room: string): boolean {
    if (!s.rooms.has(room)) return false
    this.removeFromRoom(s, room)
    return true
  }

  private removeFromRoom (s: Session, room: string): void {
    s.rooms.delete(room)
    const local = this.rooms.get(room)
    if (!local) return
    const userLeft = local.remove(s)
    if (local.empty) {
      local.dispose()
      this.rooms.delete(room)
      this.announce(room, [])
    } else if (userLeft) {
      this.membersChanged(local)
    }
  }

  /** Everyone in a room, on every funnel, sorted. */
  members (room: string): string[] {
    const users = new Set<string>(this.rooms.get(room)?.localUsers())
    const now = Date.now()
    for (const r of this.remote.get(room)?.values() ?? []) if (r.expires > now) for (const u of r.users) users.add(u)
    return [...users].sort()
  }

  // ── live thread events ───────────────────────────────────────────────────────────────────────────────────

  private framesOf (payload: ThreadEventPayload, seq: number, only?: string): RoomFrame[] {
    const rooms = roomsFor(payload).filter((r) => (only ? r === only : this.rooms.has(r)))
    return rooms.length ? framesFor(seq, payload, rooms) : []
  }

  private onThreadEvent (m: JsMsg): void {
    const where = parseSubject(m.subject)
    if (!where) return
    // Messages and tokens of rooms nobody here is in (most of them) are dropped before being parsed.
    const lifecycle = isLifecycle(where.type)
    if (!lifecycle && !this.rooms.has(where.thread)) return
    const payload = m.json<ThreadEventPayload>()
    const frames = this.framesOf(payload, m.seq)
    const own = this.rooms.get(where.thread)
    if (own && lifecycle) {
      const status = (payload.data as { status?: ThreadStatus }).status
      if (status) own.status = status
    }
    for (const f of frames) {
      for (const s of this.rooms.get(f.room)?.sessions ?? []) {
        const cursor = s.rooms.get(f.room)
        if (cursor) this.sendTo(s, cursor, f)
      }
    }
  }

  private sendTo (s: Session, cursor: RoomCursor, f: RoomFrame): void {
    const own = f.exclude === s.id && f.messageId !== undefined
    if (own) s.posting.get(f.messageId!)?.(f.seq)
    if (cursor.pending) {
      if (cursor.overflowed) return
      cursor.pending.push(f)
      if (cursor.pending.length > PENDING_LIMIT) {
        cursor.overflowed = true
        cursor.pending.length = 0
      }
      return
    }
    if (f.seq <= cursor.lastSent) return
    cursor.lastSent = f.seq
    if (f.exclude !== s.id || (own && s.owesOwn(f.messageId!))) s.send(f.frame)
  }

  // ── messages, typing ─────────────────────────────────────────────────────────────────────────────────────

  /**
   * A person's message in a room: stored in the thread's log; its seq is the ack, the members get it live.
   * A publish whose ack did not come may still have been stored: it is made again under the same msgID for up
   * to WS_REQUEST_TIMEOUT_MS (publishOnce), and a copy is answered with the first one's seq. The room's feed
   * showing it stored confirms it as well, whichever comes first. One left unconfirmed that the feed shows
   * later is sent to its sender as a `new_message`, as it is to everyone else.
   */
  async post (s: Session, room: string, text: string, clientId: string | undefined): Promise<{ room: string, seq: number, id: string }> {
    this.mustBeIn(s, room)
    const status = this.rooms.get(room)?.status
    if (status && TERMINAL_STATUSES.includes(status)) throw new WsError('FUNNEL_THREAD_CLOSED', `thread ${room} is ${status}: it accepts no new messages; start a new task or room`)
    const id = `m-${randomUUID()}`
    const ts = new Date().toISOString()
    const data = { id, thread: room, role: 'user', author: s.user, text, ts, session: s.id, ...(clientId ? { clientId } : {}) }
    const payload: ThreadEventPayload = { type: 'message', thread: room, ts, data }
    const seen = new AbortController()
    const shown = new Promise<number>((resolve) => s.posting.set(id, (seq) => { seen.abort(SHOWN_BY_FEED); resolve(seq) }))
    const published = publishOnce(this.js, subjects.threadEvent(room, 'message'), JSON.stringify(payload), { msgID: `message:${id}`, headers: busHeaders(s.requestId), ms: this.opts.requestTimeoutMs, signal: seen.signal })
    try {
      return { room, seq: await Promise.race([published.then((ack) => ack.seq), shown]), id }
    } catch (err) {
      const landed = err instanceof PublishFailedError && err.mayHaveLanded
      this.log.warn({ err: err instanceof Error ? err.message : err, room, mayHaveLanded: landed }, 'a message could not be stored')
      if (!landed) throw new WsError('FUNNEL_UNAVAILABLE', 'the message was not stored (NATS is not answering): send it again in a moment')
      s.leftUnconfirmed(id)
      throw new WsError('FUNNEL_UNCONFIRMED', `NATS did not confirm the message in time, so it may have been stored: if it was, it shows up in room "${room}" (its clientId is your frame's id); send it again only if it does not`)
    } finally {
      s.posting.delete(id)
      published.catch(() => {}) // settled by the feed first: the attempt under way ends on its own
    }
  }

  typing (s: Session, room: string, typing: boolean): void {
    this.mustBeIn(s, room)
    this.nc.publish(subjects.roomVolatile(room, 'typing'), JSON.stringify({ funnel: this.opts.instance, session: s.id, user: s.user, typing }))
  }

  mustBeIn (s: Session, room: string): void {
    if (!s.rooms.has(room)) throw new WsError('FUNNEL_NOT_IN_ROOM', `join room "${room}" first (join_room)`)
  }

  // ── presence, between funnels ────────────────────────────────────────────────────────────────────────────

  private onVolatile (subject: string, data: Uint8Array): void {
    const [, , room, kind] = subject.split('.')
    if (!room) return
    let body: { funnel?: string, session?: string, user?: string, typing?: boolean, users?: string[] }
    try {
      body = JSON.parse(new TextDecoder().decode(data)) as typeof body
    } catch {
      return
    }
    if (kind === 'typing') {
      const local = this.rooms.get(room)
      if (!local || typeof body.user !== 'string') return
      const f = wireFrame(frame('user_typing', { room, user: body.user, typing: body.typing === true }))
      for (const s of local.sessions) if (s.id !== body.session) s.send(f)
      return
    }
    if (kind === 'presence' && typeof body.funnel === 'string' && body.funnel !== this.opts.instance && Array.isArray(body.users)) {
      let byFunnel = this.remote.get(room)
      if (!byFunnel) this.remote.set(room, byFunnel = new Map())
      if (body.users.length) byFunnel.set(body.funnel, { users: body.users.filter((u) => typeof u === 'string'), expires: Date.now() + 3 * this.opts.presenceIntervalMs })
      else byFunnel.delete(body.funnel)
      if (byFunnel.size === 0) this.remote.delete(room)
      const local = this.rooms.get(room)
      if (local) this.showPresence(local)
    }
  }

  /** The users here in a room changed: the other funnels and the members here hear of it, batched. */
  private membersChanged (room: LocalRoom): void {
    room.announceTimer ??= setTimeout(() => {
      room.announceTimer = undefined
      if (this.rooms.get(room.id) === room) this.announce(room.id, room.localUsers())
    }, PRESENCE_BATCH_MS)
    this.showPresence(room)
  }

  private announce (room: string, users: string[]): void {
    if (this.nc.isClosed()) return
    this.nc.publish(subjects.roomVolatile(room, 'presence'), JSON.stringify({ funnel: this.opts.instance, users }))
  }

  private announceAll (): void {
    for (const room of this.rooms.values()) this.announce(room.id, room.localUsers())
  }

  private expireRemote (): void {
    const now = Date.now()
    for (const [room, byFunnel] of this.remote) {
      let changed = false
      for (const [funnel, r] of byFunnel) if (r.expires <= now) { byFunnel.delete(funnel); changed = true }
      if (byFunnel.size === 0) this.remote.delete(room)
      const local = this.rooms.get(room)
      if (changed && local) this.showPresence(local)
    }
  }

  /**
   * Sends `presence` to a room's members here when the cluster-wide member list changed: at most one frame per
   * room per PRESENCE_BATCH_MS, listing up to LISTED_MEMBERS members (a room of thousands is not re-listed to
   * thousands on every join).
   */
  private showPresence (room: LocalRoom): void {
    room.presenceTimer ??= setTimeout(() => {
      room.presenceTimer = undefined
      if (this.rooms.get(room.id) !== room) return
      const members = this.members(room.id)
      const key = members.join('\n')
      if (room.shown === key) return
      room.shown = key
      const f = wireFrame(frame('presence', { room: room.id, members: members.slice(0, LISTED_MEMBERS), memberCount: members.length }))
      for (const s of room.sessions) s.send(f)
    }, PRESENCE_BATCH_MS)
  }

  // ── stats ────────────────────────────────────────────────────────────────────────────────────────────────

  localStats (): StatsAnswer {
    return {
      kind: 'funnel',
      instance: this.opts.instance,
      users: [...new Set([...this.sessions].map((s) => s.user))],
      sockets: this.sessions.size,
      rooms: [...this.rooms.keys()]
    }
  }

  /** Connected users, sockets, rooms and answers being generated, over every funnel and openai-service. */
  async stats (): Promise<RealtimeStats> {
    const answers: StatsAnswer[] = []
    try {
      for await (const m of await this.nc.requestMany(subjects.statsRequest, '', { strategy: 'timer', maxWait: this.opts.statsWaitMs })) {
        try { answers.push(m.json<StatsAnswer>()) } catch { /* a malformed answer is left out */ }
      }
    } catch (err) {
      this.log.warn({ err: err instanceof Error ? err.message : err }, 'stats: NATS did not answer; counting this funnel only')
    }
    if (!answers.some((a) => a.instance === this.opts.instance)) answers.push(this.localStats())
    const users = new Set<string>()
    const rooms = new Set<string>()
    const generations: Record<string, number> = {}
    let sockets = 0
    let funnels = 0
    for (const a of answers) {
      if (a.kind === 'funnel') {
        funnels++
        sockets += a.sockets ?? 0
        for (const u of a.users ?? []) users.add(u)
        for (const r of a.rooms ?? []) rooms.add(r)
      }
      for (const [model, n] of Object.entries(a.generations ?? {})) generations[model] = (generations[model] ?? 0) + n
    }
    return { users: users.size, sockets, rooms: rooms.size, funnels, generations }
  }

  // ── the threads engine, over NATS ────────────────────────────────────────────────────────────────────────

  /** Asks the threads engine (any openai-service instance); its refusals come back as WsErrors with its codes. */
  async request<T> (op: ThreadsRpcOp, user: string, data: Record<string, unknown>, requestId?: string): Promise<T> {
    let reply: ThreadsRpcReply
    try {
      const m = await this.nc.request(subjects.threadsRpc(op), JSON.stringify({ user, ...(requestId ? { requestId } : {}), data }), { timeout: this.opts.requestTimeoutMs, headers: busHeaders(requestId) })
      reply = m.json<ThreadsRpcReply>()
    } catch (err) {
      this.log.warn({ err: err instanceof Error ? err.message : err, op }, 'the threads engine did not answer')
      throw new WsError('FUNNEL_THREADS_UNAVAILABLE', 'the threads engine (openai-service) did not answer: try again in a moment; GET /health shows which part is down')
    }
    if (!reply.ok) {
      const code = reply.error.code === 'THREADS_NOT_FOUND' ? 'FUNNEL_ROOM_NOT_FOUND' : reply.error.code
      throw new WsError(code, reply.error.message)
    }
    return reply.data as T
  }
}
