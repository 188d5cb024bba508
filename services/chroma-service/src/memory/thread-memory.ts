import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager, JetStreamApiError, type JsMsg } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import type { ChromaClient, Collection } from 'chromadb'
import type { FastifyBaseLogger } from 'fastify'
import { THREADS_STREAM } from '@skein/bus'
import type { ThreadEventPayload } from '@skein/schemas'

export const MEMORY_CONSUMER = 'memory-indexer'
const MESSAGE_EVENTS = 'skein.thread.*.message'
const INDEXED_ROLES = new Set(['user', 'assistant', 'report'])

export interface MemoryHit {
  id: string
  text: string
  score: number
  metadata: Record<string, unknown>
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Thread memory: a durable JetStream consumer follows every thread message and indexes it into one Chroma
 * collection, with its thread, author, role and source as metadata. The message id is the document id, so a
 * redelivery or a replay changes nothing. While Chroma (or the embedder) is down nothing is acked: the
 * consumer waits and resumes where it stopped.
 */
export class ThreadMemory {
  private running = false
  private loop: Promise<void> | undefined
  private collection: Collection | undefined

  constructor (
    private readonly nc: NatsConnection,
    private readonly chroma: ChromaClient,
    private readonly embed: (texts: string[]) => Promise<number[][]>,
    private readonly opts: { collection: string, embeddingModel: string, batch: number },
    private readonly log: FastifyBaseLogger
  ) {}

  private async open (): Promise<Collection> {
    this.collection ??= await this.chroma.getOrCreateCollection({
      name: this.opts.collection,
      embeddingFunction: null,
      metadata: { 'hnsw:space': 'cosine', embedding_model: this.opts.embeddingModel }
    })
    return this.collection
  }

  start (): void {
    this.running = true
    this.loop = this.follow()
  }

  async stop (): Promise<void> {
    this.running = false
    await this.loop
  }

  private async follow (): Promise<void> {
    while (this.running) {
      try {
        const jsm = await jetstreamManager(this.nc)
        try {
          await jsm.consumers.add(THREADS_STREAM, { durable_name: MEMORY_CONSUMER, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, filter_subject: MESSAGE_EVENTS, ack_wait: 60_000_000_000, max_ack_pending: 1000 })
        } catch (err) {
          if (!(err instanceof JetStreamApiError)) throw err // exists already: reused as it is
        }
        const consumer = await jetstream(this.nc).consumers.get(THREADS_STREAM, MEMORY_CONSUMER)
        while (this.running) {
          const batch = await consumer.fetch({ max_messages: this.opts.batch, expires: 1_000 })
          const msgs: JsMsg[] = []
          for await (const m of batch) msgs.push(m)
          if (msgs.length) await this.index(msgs)
        }
      } catch (err) {
        if (!this.running) return
        this.log.warn({ err: err instanceof Error ? err.message : err }, 'memory indexer waiting (no thread stream yet, or NATS away); retrying in 1 s')
        await delay(1_000)
      }
    }
  }

  /** Embeds and upserts a batch; acks only once Chroma holds it. */
  private async index (msgs: JsMsg[]): Promise<void> {
    type Doc = { id?: string, thread?: string, role?: string, author?: string, text?: string, from?: string, ts?: string }
    // One document per message id: a replay inside the same batch must not make Chroma refuse the batch.
    const byId = new Map<string, Doc>()
    for (const m of msgs) {
      const d = m.json<ThreadEventPayload>().data as Doc
      if (d.id && d.text && d.role && INDEXED_ROLES.has(d.role)) byId.set(d.id, d)
    }
    const docs = [...byId.values()]
    try {
      if (docs.length) {
        const collection = await this.open()
        const embeddings = await this.embed(docs.map((d) => d.text!))
        await collection.upsert({
          ids: docs.map((d) => d.id!),
          embeddings,
          documents: docs.map((d) => d.text!),
          metadatas: docs.map((d) => ({ thread: d.thread ?? '', role: d.role!, author: d.author ?? '', from: d.from ?? '', ts: d.ts ?? '' }))
        })
      }
      for (const m of msgs) m.ack()
    } catch (err) {
      this.collection = undefined
      this.log.warn({ err: err instanceof Error ? err.message : err, messages: msgs.length }, 'memory indexing failed; the messages will be retried')
      for (const m of msgs) m.nak(2_000)
    }
  }

  /** The memory closest to `query`, best first, optionally within one thread. */
  async search (query: string, opts: { k: number, thread?: string }): Promise<MemoryHit[]> {
    const collection = await this.open()
    const [embedding] = await this.embed([query])
    const res = await collection.query({
      queryEmbeddings: [embedding!],
      nResults: opts.k,
      ...(opts.thread ? { where: { thread: opts.thread } } : {}),
      include: ['documents', 'metadatas', 'distances'] as never
    })
    const ids = res.ids[0] ?? []
    return ids.map((id, i) => ({
      id,
      text: res.documents[0]?.[i] ?? '',
      score: 1 - (res.distances[0]?.[i] ?? 1),
      metadata: (res.metadatas[0]?.[i] ?? {}) as Record<string, unknown>
    }))
  }
}
