import type { NatsConnection } from '@nats-io/transport-node'
import { SUBJECT_TOKEN, subjects } from '@skein/bus'
import { SYSTEM_USER } from '@skein/kit'
import type { ThreadRecord, ThreadsRpcReply } from '@skein/schemas'

const MAIN = 'main'

/** Who may read a thread's messages, and where they were said. */
export interface ThreadPlace {
  /** The conversation it belongs to: main, or a room (a task belongs to the room it was started in). */
  room: string
  /** The thread's parent ("" for main). */
  parent: string
  private: boolean
  /** With `private`: the owner and members of the private room. */
  readers: string[]
}

/** A record could not be learnt now (no openai-service answered): try later. */
export class ThreadLookupError extends Error {
  constructor (thread: string, cause: unknown) {
    super(`the record of thread ${thread} cannot be read now: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
    this.name = 'ThreadLookupError'
  }
}

/**
 * Thread records, for memory's metadata and privacy: asked of the openai-service over NATS
 * (`skein.rpc.threads.get` as the system user), never read from its bucket. Kept a minute per thread.
 */
export class ThreadDirectory {
  private readonly cache = new Map<string, { record: ThreadRecord, at: number }>()

  constructor (
    private readonly nc: NatsConnection,
    private readonly opts: { rpcTimeoutMs: number, ttlMs?: number }
  ) {}

  /** The record, or null when there is no such thread; throws ThreadLookupError when it cannot be known now. */
  async record (id: string): Promise<ThreadRecord | null> {
    if (!SUBJECT_TOKEN.test(id)) return null // not a thread id the openai-service makes (nor safe in a subject)
    const hit = this.cache.get(id)
    if (hit && Date.now() - hit.at < (this.opts.ttlMs ?? 60_000)) return hit.record
    const record = await this.fromService(id)
    if (record) {
      if (this.cache.size > 10_000) this.cache.clear()
      this.cache.set(id, { record, at: Date.now() })
    }
    return record
  }

  /**
   * The openai-service's answer: the record, or null when it says there is no such thread. When no instance
   * answers (or it fails), who may read the thread is unknown: a ThreadLookupError, and the caller tries later.
   */
  private async fromService (id: string): Promise<ThreadRecord | null> {
    let answer: ThreadsRpcReply
    try {
      const reply = await this.nc.request(subjects.threadsRpc('get'), JSON.stringify({ user: SYSTEM_USER, data: { thread: id } }), { timeout: this.opts.rpcTimeoutMs })
      answer = reply.json<ThreadsRpcReply>()
    } catch (err) {
      throw new ThreadLookupError(id, err)
    }
    if (answer.ok) return answer.data as ThreadRecord
    if (answer.error.status === 404) return null
    throw new ThreadLookupError(id, new Error(answer.error.message))
  }

  /**
   * Where a message was said and who may read it. A message is as private as the thread it comes from (a
   * report's `from`, else its own thread), and a thread as private as the room at the root of its tree.
   * Null when a thread it names has no record: then who may read it is unknown, and it is not indexed.
   */
  async place (thread: string, from?: string): Promise<ThreadPlace | null> {
    const own = thread === MAIN ? null : await this.record(thread)
    if (thread !== MAIN && !own) return null
    let room = MAIN
    if (own) {
      const top = own.root === own.id ? own : await this.record(own.root)
      room = !top ? MAIN : top.kind === 'task' ? (top.parent ?? MAIN) : top.id
    }
    const sourceId = from && from !== thread ? from : thread
    const source = sourceId === thread ? own : await this.record(sourceId)
    if (sourceId !== MAIN && !source) return null
    let holder: ThreadRecord | null = null
    if (source?.private) holder = source
    else if (source && source.root !== source.id) {
      const root = await this.record(source.root)
      if (root?.private) holder = root
    }
    return {
      room,
      parent: own?.parent ?? '',
      private: holder !== null,
      readers: holder ? [...new Set([holder.owner, ...(holder.members ?? [])])] : []
    }
  }
}
