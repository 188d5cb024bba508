import type { ChromaClient, Collection, Metadata, Where } from 'chromadb'
import type { MemoryScope, SearchHit, ThreadEventPayload } from '@skein/schemas'
import { checkEmbedding, embeddingMetadata, toHits } from '../collections/collection-store.js'
import { isNotFound } from '../collections/chroma-errors.js'
import type { Embedder } from '../embeddings/embedder.js'
import { EmbeddingRefusedError, EmbeddingUnavailableError } from '../errors.js'
import type { ThreadDirectory } from './thread-directory.js'

/** The thread messages that are memory: what people said, what assistants answered, and task results (reports). */
const INDEXED_ROLES = new Set(['user', 'assistant', 'report'])
/** Answers that did not finish: cut by the model, or by their instance going away (another answer replaces them). */
const UNFINISHED = new Set(['error', 'interrupted'])
/** Metadata key marking a reader of a private room's message: `reader:<user>` = true. */
export const READER = 'reader:'
export const REBUILD_HINT = 'rebuild the memory with the new model: npm run memory:rebuild'

export interface MemoryMessage { id: string, thread: string, role: string, author: string, text: string, ts: string, from: string }
export interface MemoryDocument { id: string, text: string, metadata: Metadata }
/** A document the embedding backend refuses, and what it said. */
export interface RefusedDocument { doc: MemoryDocument, reason: string }

const PROBE = 'memory indexer probe: a plain text any embedding model accepts'

/**
 * The message a thread event carries, if it is one memory keeps: a finished message (not an answer cut short),
 * a completed task's result (not a failure's report; reports from before they carried `status` say "Failed: ").
 */
export function memoryMessage (payload: ThreadEventPayload): MemoryMessage | null {
  if (payload.type !== 'message') return null
  const d = payload.data
  const str = (v: unknown): string => (typeof v === 'string' ? v : '')
  if (!str(d.id) || !str(d.text).trim() || !INDEXED_ROLES.has(str(d.role))) return null
  if (UNFINISHED.has(str(d.finishReason))) return null
  if (str(d.role) === 'report' && (d.status === 'failed' || (d.status === undefined && str(d.text).startsWith('Failed: ')))) return null
  return { id: str(d.id), thread: str(d.thread) || payload.thread, role: str(d.role), author: str(d.author), text: str(d.text), ts: str(d.ts) || payload.ts, from: str(d.from) }
}

/**
 * A message as a memory document: the message id is the document id (so a replay changes nothing), with its
 * thread, room, parent, author and who may read it. Null when its thread has no record (not indexed);
 * ThreadLookupError when that cannot be known now.
 */
export async function memoryDocument (m: MemoryMessage, directory: ThreadDirectory): Promise<MemoryDocument | null> {
  const place = await directory.place(m.thread, m.from || undefined)
  if (!place) return null
  const metadata: Metadata = { thread: m.thread, room: place.room, parent: place.parent, author: m.author, role: m.role, from: m.from, ts: m.ts, private: place.private }
  for (const reader of place.readers) metadata[READER + reader] = true
  return { id: m.id, text: m.text, metadata }
}

/** Who may see what: public memory, a private room's memory for its readers, and the asking thread's own. */
export function visibility (who: { user?: string | undefined, thread?: string | undefined }): Where {
  const any: Where[] = [{ private: false }]
  if (who.user) any.push({ [READER + who.user]: true })
  if (who.thread) any.push({ thread: who.thread })
  return { $or: any } as Where
}

export function scopeFilter (scope: MemoryScope | undefined, id: string | undefined): Where | undefined {
  if (scope === 'thread') return { thread: id ?? 'main' }
  if (scope === 'room') return { room: id ?? 'main' }
  return undefined
}

/** The thread-memory collection in Chroma: opened (or made) on first use, with the embedding model it is built with. */
export class MemoryIndex {
  private handle: Collection | undefined

  constructor (
    private readonly chroma: ChromaClient,
    private readonly embedder: Embedder,
    readonly name: string
  ) {}

  async open (): Promise<Collection> {
    if (this.handle) return this.handle
    try {
      this.handle = await this.chroma.getCollection({ name: this.name, embeddingFunction: null as never })
    } catch (err) {
      if (!isNotFound(err)) throw err
      const dimensions = await this.embedder.dimensions()
      this.handle = await this.chroma.getOrCreateCollection({ name: this.name, embeddingFunction: null as never, metadata: embeddingMetadata(this.embedder.model, dimensions) as never })
    }
    return this.handle
  }

  /** Forgets the handle (the collection was deleted, or replaced by a rebuild). */
  forget (): void {
    this.handle = undefined
  }

  private async retry<T> (fn: (c: Collection) => Promise<T>): Promise<T> {
    try {
      return await fn(await this.open())
    } catch (err) {
      if (!isNotFound(err)) throw err
      this.forget()
      return await fn(await this.open())
    }
  }

  private check (c: Collection, dimensions?: number): void {
    checkEmbedding(`The memory collection "${this.name}"`, c.metadata as never, this.embedder.model, dimensions, REBUILD_HINT)
  }

  /** The documents' vectors (kept by the caller, so a retried write does not embed again). */
  async embed (docs: MemoryDocument[]): Promise<number[][]> {
    return await this.embedder.embed(docs.map((d) => d.text))
  }

  /**
   * The vectors of the documents the embedding backend accepts, and the ones it refuses (EmbeddingRefusedError:
   * the text itself, not the backend's state, so trying again will not help). A refused batch is embedded again
   * one document at a time to find which. When even a plain probe text is refused, the fault is the
   * configuration (EMBEDDING_MODEL, EMBEDDING_DIMENSIONS), not the documents: that is thrown as
   * EmbeddingUnavailableError, and none is refused. Any other failure is thrown as it is.
   */
  async embedAccepted (docs: MemoryDocument[]): Promise<{ docs: MemoryDocument[], embeddings: number[][], refused: RefusedDocument[] }> {
    try {
      return { docs, embeddings: await this.embed(docs), refused: [] }
    } catch (err) {
      if (!(err instanceof EmbeddingRefusedError)) throw err
    }
    const accepted: MemoryDocument[] = []
    const embeddings: number[][] = []
    const refused: RefusedDocument[] = []
    for (const doc of docs) {
      try {
        embeddings.push((await this.embed([doc]))[0]!)
        accepted.push(doc)
      } catch (err) {
        if (!(err instanceof EmbeddingRefusedError)) throw err
        refused.push({ doc, reason: err.message })
      }
    }
    if (refused.length) {
      try {
        await this.embedder.embed([PROBE])
      } catch (err) {
        if (!(err instanceof EmbeddingRefusedError)) throw err
        throw new EmbeddingUnavailableError(`it refuses every text, even a plain probe, so the configuration (EMBEDDING_MODEL, EMBEDDING_DIMENSIONS) is at fault: ${err.message}`)
      }
    }
    return { docs: accepted, embeddings, refused }
  }

  async upsert (docs: MemoryDocument[], embeddings?: number[][]): Promise<void> {
    if (!docs.length) return
    await this.retry(async (c) => {
      this.check(c)
      const vectors = embeddings ?? await this.embed(docs)
      this.check(c, vectors[0]?.length)
      await c.upsert({ ids: docs.map((d) => d.id), embeddings: vectors, documents: docs.map((d) => d.text), metadatas: docs.map((d) => d.metadata) })
    })
  }

  async search (query: string, opts: { k: number, where: Where }): Promise<SearchHit[]> {
    return await this.retry(async (c) => {
      this.check(c)
      const [embedding] = await this.embedder.embed([query])
      this.check(c, embedding!.length)
      const res = await c.query({ queryEmbeddings: [embedding!], nResults: opts.k, where: opts.where, include: ['documents', 'metadatas', 'distances'] as never })
      return toHits(res)
    })
  }

  async count (): Promise<number> {
    return await this.retry((c) => c.count())
  }
}
