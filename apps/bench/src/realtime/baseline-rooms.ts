// What both baseline servers (plain ws, socket.io) keep: rooms, their members and a sequence per room, and
// the JSON shapes of Skein's /ws protocol (libs/schemas/src/realtime.ts) for room_joined, new_message and ack.
import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { verifyToken } from '@skein/kit'

const ROOM = /^[A-Za-z0-9_-]{1,64}$/

export interface Member { user: string }

export class BaselineRooms<M extends Member> {
  private readonly rooms = new Map<string, { members: Set<M>, seq: number }>()

  /** Joins `member` to `room` (made on first join, as `main` always exists on Skein): the room_joined data. */
  join (member: M, room: string): { room: string, members: string[], lastSeq: number } {
    let r = this.rooms.get(room)
    if (!r) {
      r = { members: new Set(), seq: 0 }
      this.rooms.set(room, r)
    }
    r.members.add(member)
    return { room, members: [...new Set([...r.members].map((m) => m.user))], lastSeq: r.seq }
  }

  leaveAll (member: M): void {
    for (const [name, r] of this.rooms) {
      r.members.delete(member)
      if (!r.members.size) this.rooms.delete(name)
    }
  }

  /** Sequences a message of `member` in `room`: the new_message data (undefined when not a member). */
  post (member: M, room: string, text: string): { room: string, seq: number, id: string, user: string, text: string, ts: string } | undefined {
    const r = this.rooms.get(room)
    if (!r?.members.has(member)) return undefined
    return { room, seq: ++r.seq, id: randomUUID(), user: member.user, text, ts: new Date().toISOString() }
  }

  /** The members of `room` (empty when it has none). */
  membersOf (room: string): ReadonlySet<M> {
    return this.rooms.get(room)?.members ?? new Set()
  }
}

export const validRoom = (room: unknown): room is string => typeof room === 'string' && ROOM.test(room)
export const validText = (text: unknown): text is string => typeof text === 'string' && text.length >= 1 && text.length <= 16_000

/** The user of a token, or undefined when it is missing or not valid. */
export function tokenUser (secret: string, token: string | undefined): string | undefined {
  if (!token) return undefined
  try {
    return verifyToken(secret, token).sub
  } catch {
    return undefined
  }
}

/** The token of an upgrade request: `?token=` or `Authorization: Bearer`. */
export function requestToken (req: IncomingMessage): string | undefined {
  const q = new URL(req.url ?? '/', 'http://x').searchParams.get('token')
  if (q) return q
  const h = req.headers.authorization
  return h?.startsWith('Bearer ') ? h.slice(7) : undefined
}

/**
 * The baseline servers' own HTTP paths: `/health`, and `/gc`, which runs a full garbage collection (the
 * process is started with --expose-gc) so the bench reads a settled RSS.
 */
export function answerControl (req: IncomingMessage, res: ServerResponse): boolean {
  if (req.url === '/health') {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}')
    return true
  }
  if (req.url === '/gc') {
    const gc = (globalThis as { gc?: () => void }).gc
    if (!gc) {
      res.writeHead(501).end('start the server with --expose-gc')
      return true
    }
    gc()
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ rssKib: Math.round(process.memoryUsage.rss() / 1024) }))
    return true
  }
  return false
}

/** The JetStream stream "plain ws + JetStream" stores every message in (subjects `<stream>.<room>`). */
export const STORE_STREAM = 'BENCH_ROOMS'

export function serverConfig (): { port: number, host: string, secret: string } {
  const secret = process.env.JWT_SECRET
  if (!secret) throw new Error('JWT_SECRET is required')
  return { port: Number(process.env.PORT ?? 0), host: process.env.HOST ?? '127.0.0.1', secret }
}
