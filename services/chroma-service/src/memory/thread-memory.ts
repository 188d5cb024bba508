import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, JetStreamApiError, type Consumer, type JsMsg } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import type { FastifyBaseLogger } from 'fastify'
import { THREADS_STREAM } from '@skein/bus'
import type { DependencyHealth, MemoryScope, SearchHit, ThreadEventPayload } from '@skein/schemas'
import { memoryDocument, memoryMessage, scopeFilter, visibility, type MemoryDocument, type MemoryIndex } from './memory-index.js'
import type { ThreadDirectory } from './thread-directory.js'

export const MEMORY_CONSUMER = 'memory-indexer'
export const MESSAGE_EVENTS = 'skein.thread.*.message'
const LOOKUP_RETRY_MS = 5_000

const reason = (err: unknown): string => (err instanceof Error ? err.message : String(err))

/** A document to index and the stream messages that carry it (a replay inside one batch: several). */
interface Pending { doc: MemoryDocument, msgs: JsMsg[] }

export interface MemorySearch {
  query: string
  k: number
  scope?: MemoryScope | undefined
  id?: string | undefined
  /** The user searching: their private rooms are searched too. */
  user?: string | undefined
  /** The thread searching (the search_memory tool): its own messages are searched too. */
  thread?: string | undefined
}

/**
 * Thread memory: a durable JetStream consumer follows every thread message and indexes the ones memory keeps,
 * with where they were said and who may read them. Idempotent: the message id is the document id. A batch is
 * acked only once Chroma holds it; while Chroma (or the embedder) is down the indexer holds its batch, keeps it
 * from being redelivered, retries with backoff, and resumes where it stopped. A message whose text the embedding
 * backend refuses (400, 413, 422: the text, not the backend) is set aside, acked, logged and counted in /health,
 * and the rest of its batch goes on: one bad message must not stop memory.
 */
export class ThreadMemory {
  private running = false
  private loop: Promise<void> | undefined
  private failure: { message: string, since: number, waiting: number } | undefined
  private followed = false
  private wake: (() => void) | undefined
  /** Documents indexed by this instance since it started. */
  indexed = 0
  /** Messages set aside by this instance since it started: their text was refused by the embedding backend. */
  setAside = 0
  private lastSetAside: { message: string, reason: string, at: string } | undefined

  constructor (
    private readonly nc: NatsConnection,
    readonly index: MemoryIndex,
    private readonly directory: ThreadDirectory,
    private readonly opts: { batch: number },
    private readonly log: FastifyBaseLogger
  ) {}

  start (): void {
    this.running = true
    this.loop = this.follow()
  }

  async stop (): Promise<void> {
    this.running = false
    this.wake?.()
    await this.loop
  }

  /** Waits, or less when the indexer stops. */
  private async sleep (ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms)
      this.wake = () => { clearTimeout(timer); resolve() }
    })
    this.wake = undefined
  }

  /**
   * For `/health`: down while the indexer cannot index (Chroma or the embedder failing), saying why; the messages
   * set aside (refused by the embedding backend) are counted in its message and details, the last one named.
   */
  health (): DependencyHealth {
    const details = { indexed: this.indexed, setAside: this.setAside, ...(this.lastSetAside ? { lastSetAside: this.lastSetAside } : {}) }
    if (this.failure) return { status: 'down', message: `${this.failure.waiting} message(s) waiting since ${new Date(this.failure.since).toISOString()}: ${this.failure.message}`, details }
    const aside = this.setAside ? `; ${this.setAside} set aside, refused by the embedding backend (the last: ${this.lastSetAside!.message})` : ''
    return { status: 'up', message: this.followed ? `following ${THREADS_STREAM}; ${this.indexed} indexed by this instance${aside}` : `waiting for the ${THREADS_STREAM} stream (the openai-service creates it)`, details }
  }

  private async consumer (): Promise<Consumer> {
    const jsm = await jetstreamManager(this.nc)
    try {
      await jsm.consumers.add(THREADS_STREAM, { durable_name: MEMORY_CONSUMER, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, filter_subject: MESSAGE_EVENTS, ack_wait: 60_000_000_000, max_ack_pending: 1000 })
    } catch (err) {
      if (!(err instanceof JetStreamApiError)) throw err // exists already (reused as it is), or no stream yet (get says so)
    }
    return await jetstream(this.nc).consumers.get(THREADS_STREAM, MEMORY_CONSUMER)
  }

  private async follow (): Promise<void> {
    let lastWarning = ''
    while (this.running) {
      try {
        const consumer = await this.consumer()
        this.followed = true
        lastWarning = ''
        while (this.running) {
          const msgs: JsMsg[] = []
          for await (const m of await consumer.fetch({ max_messages: this.opts.batch, expires: 1_000 })) msgs.push(m)
          if (msgs.length) await this.handle(msgs)
        }
      } catch (err) {
        if (!this.running) return
        this.followed = false
        // Said once per cause, not every second: waiting for the openai-service to create the stream is normal.
        if (reason(err) !== lastWarning) this.log.warn({ err: reason(err) }, 'memory indexer waiting (no thread stream yet, or NATS away); retrying every second')
        lastWarning = reason(err)
        await this.sleep(1_000)
      }
    }
  }

  /** One fetched batch: what is not memory is acked, what cannot be placed yet comes back later, the rest is indexed. */
  private async handle (msgs: JsMsg[]): Promise<void> {
    const byId = new Map<string, Pending>()
    for (const m of msgs) {
      let payload: ThreadEventPayload
      try {
        payload = m.json<ThreadEventPayload>()
      } catch {
        m.term()
        continue
      }
      const message = memoryMessage(payload)
      if (!message) {
        m.ack()
        continue
      }
      try {
        const doc = await memoryDocument(message, this.directory)
        if (!doc) {
          this.log.warn({ message: message.id, thread: message.thread }, 'not indexed: its thread has no record, so who may read it is unknown')
          m.term()
          continue
        }
        const pending = byId.get(doc.id) // a replay inside one batch: one document
        byId.set(doc.id, { doc, msgs: [...(pending?.msgs ?? []), m] })
      } catch (err) {
        // Who may read it cannot be known now (ThreadLookupError), or its record is unreadable: later, not lost.
        this.log.warn({ message: message.id, err: reason(err) }, 'memory indexing of a message postponed')
        m.nak(LOOKUP_RETRY_MS)
      }
    }
    if (byId.size) await this.write([...byId.values()])
  }

  /**
   * Writes until Chroma holds the documents, then acks; on shutdown, hands the messages back. The ones whose text
   * the embedding backend refuses are set aside first (acked: sending them again would be refused again).
   */
  private async write (pending: Pending[]): Promise<void> {
    let ready: { pending: Pending[], embeddings: number[][] } | undefined
    for (let attempt = 0; ; attempt++) {
      try {
        ready ??= await this.embed(pending)
        await this.index.upsert(ready.pending.map((p) => p.doc), ready.embeddings)
        for (const p of ready.pending) for (const m of p.msgs) m.ack()
        this.indexed += ready.pending.length
        if (this.failure) this.log.info({ messages: ready.pending.length }, 'memory indexer resumed')
        this.failure = undefined
        return
      } catch (err) {
        this.index.forget()
        const waiting = (ready?.pending ?? pending).flatMap((p) => p.msgs)
        if (!this.failure) this.log.warn({ err: reason(err), messages: waiting.length }, 'memory indexing failed; holding the messages and retrying')
        this.failure = { message: reason(err), since: this.failure?.since ?? Date.now(), waiting: waiting.length }
        if (!this.running) {
          for (const m of waiting) m.nak()
          return
        }
        for (const m of waiting) m.working()
        await this.sleep(Math.min(2_000, 250 * 2 ** attempt))
      }
    }
  }

  /** The vectors of the documents the embedding backend accepts; the ones it refuses are set aside and acked. */
  private async embed (pending: Pending[]): Promise<{ pending: Pending[], embeddings: number[][] }> {
    const { docs, embeddings, refused } = await this.index.embedAccepted(pending.map((p) => p.doc))
    if (!refused.length) return { pending, embeddings }
    const byId = new Map(pending.map((p) => [p.doc.id, p]))
    for (const r of refused) {
      this.log.warn({ message: r.doc.id, thread: r.doc.metadata.thread, reason: r.reason }, 'memory indexing: message set aside, its text refused by the embedding backend')
      for (const m of byId.get(r.doc.id)!.msgs) m.ack()
      this.setAside++
      this.lastSetAside = { message: r.doc.id, reason: r.reason, at: new Date().toISOString() }
    }
    return { pending: docs.map((d) => byId.get(d.id)!), embeddings }
  }

  /** The memory closest to a query, best first, among what the asker may read, in scope. */
  async search (s: MemorySearch): Promise<SearchHit[]> {
    const scope = scopeFilter(s.scope, s.id)
    const visible = visibility({ user: s.user, thread: s.thread })
    return await this.index.search(s.query, { k: s.k, where: scope ? { $and: [scope, visible] } : visible })
  }
}
