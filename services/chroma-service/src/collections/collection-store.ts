import { createHash } from 'node:crypto'
import { ChromaClientError, ChromaUniqueError, ChromaValueError, InvalidArgumentError, type ChromaClient, type Collection, type Metadata, type Where } from 'chromadb'
import type { CollectionInfo, DocumentInput, DocumentRecord, MemoryMetadata, SearchHit } from '@skein/schemas'
import type { Embedder } from '../embeddings/embedder.js'
import { BadFilterError, CollectionExistsError, CollectionNotFoundError, CollectionReadOnlyError, DocumentNotFoundError, EmbeddingMismatchError } from '../errors.js'
import { chromaFailure, isNotFound } from './chroma-errors.js'

// A user's collection lives in Chroma as `u_<hex of owner>_<name>` (hex has no `_`, so no two owners can
// collide), a shared one as `s_<name>` (one namespace for everything shared). What Skein knows about it is in
// the collection's metadata under `skein:` keys; the user's own metadata under `meta:` keys.
const KEY = {
  owner: 'skein:owner',
  name: 'skein:name',
  shared: 'skein:shared',
  createdAt: 'skein:created_at',
  model: 'embedding_model',
  dimensions: 'embedding_dimensions'
} as const
const USER_META = 'meta:'

export const privateName = (owner: string, name: string): string => `u_${Buffer.from(owner, 'utf8').toString('hex')}_${name}`
export const sharedName = (name: string): string => `s_${name}`

type Mode = 'read' | 'write'
type ChromaMetadata = Record<string, string | number | boolean | null>

/** Checks a collection was built with the embedder's model and vector length (a mismatch is a 409, not garbage). */
export function checkEmbedding (what: string, meta: ChromaMetadata | undefined, model: string, dimensions: number | undefined, remedy: string): void {
  const builtModel = meta?.[KEY.model]
  const builtDims = meta?.[KEY.dimensions]
  if (typeof builtModel === 'string' && builtModel !== model) {
    throw new EmbeddingMismatchError(what, builtModel, model, remedy)
  }
  if (dimensions !== undefined && typeof builtDims === 'number' && builtDims !== dimensions) {
    throw new EmbeddingMismatchError(what, `${String(builtModel)} (${builtDims} dimensions)`, `${model} (${dimensions} dimensions)`, remedy)
  }
}

export function embeddingMetadata (model: string, dimensions: number): ChromaMetadata {
  return { 'hnsw:space': 'cosine', [KEY.model]: model, [KEY.dimensions]: dimensions }
}

/**
 * The id of a document sent without one: `d-` and 32 hex digits of the SHA-256 of its text and metadata (keys
 * sorted; no metadata is `{}`). The same document sent twice, or a retried call, writes the same record once.
 */
export function contentId (doc: { text: string, metadata?: MemoryMetadata | undefined }): string {
  const metadata = Object.fromEntries(Object.entries(doc.metadata ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
  return `d-${createHash('sha256').update(JSON.stringify({ text: doc.text, metadata })).digest('hex').slice(0, 32)}`
}

/** Chroma's query answer as hits, best first; score is cosine similarity. */
export function toHits (res: { ids: string[][], documents: Array<Array<string | null>>, metadatas: Array<Array<Metadata | null>>, distances: Array<Array<number | null>> }): SearchHit[] {
  const ids = res.ids[0] ?? []
  return ids.map((id, i) => ({
    id,
    text: res.documents[0]?.[i] ?? '',
    score: 1 - (res.distances[0]?.[i] ?? 1),
    metadata: (res.metadatas[0]?.[i] ?? {}) as SearchHit['metadata']
  }))
}

function info (c: Collection, count?: number): CollectionInfo {
  const m = (c.metadata ?? {}) as ChromaMetadata
  const metadata: MemoryMetadata = {}
  for (const [k, v] of Object.entries(m)) if (k.startsWith(USER_META) && v !== null) metadata[k.slice(USER_META.length)] = v
  return {
    name: String(m[KEY.name]),
    owner: String(m[KEY.owner]),
    shared: m[KEY.shared] === true,
    metadata,
    embedding: { model: String(m[KEY.model]), dimensions: Number(m[KEY.dimensions]) },
    createdAt: String(m[KEY.createdAt]),
    ...(count === undefined ? {} : { count })
  }
}

/**
 * Users' collections: scoped per owner, or shared (readable by everyone, writable by the owner only). Another
 * user's private collection answers 404, exactly as one that does not exist, so names do not leak. Collection
 * handles are kept by internal name; one that Chroma no longer knows (deleted, or deleted and made again by
 * another instance) is looked up again once.
 */
export class CollectionStore {
  private readonly handles = new Map<string, Collection>()
  private maxBatch: number | undefined

  constructor (
    private readonly chroma: ChromaClient,
    private readonly embedder: Embedder,
    private readonly opts: { upsertBatch: number, chromaTimeoutMs?: number }
  ) {}

  private async open (internal: string): Promise<Collection | null> {
    const cached = this.handles.get(internal)
    if (cached) return cached
    try {
      const c = await this.chroma.getCollection({ name: internal, embeddingFunction: null as never })
      this.handles.set(internal, c)
      return c
    } catch (err) {
      if (isNotFound(err)) return null
      throw chromaFailure(err, this.opts.chromaTimeoutMs)
    }
  }

  /** The caller's own collection of that name, else a shared one; writes to someone else's shared one are refused. */
  private async resolve (user: string, name: string, mode: Mode): Promise<Collection> {
    const own = await this.open(privateName(user, name))
    if (own) return own
    const shared = await this.open(sharedName(name))
    if (shared) {
      const owner = String(shared.metadata?.[KEY.owner])
      if (mode === 'write' && owner !== user) throw new CollectionReadOnlyError(name, owner)
      return shared
    }
    throw new CollectionNotFoundError(name)
  }

  /** Runs `fn` on the collection, looking it up afresh once if Chroma says the handle is stale. */
  private async with<T> (user: string, name: string, mode: Mode, fn: (c: Collection) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const c = await this.resolve(user, name, mode)
      try {
        return await fn(c)
      } catch (err) {
        if (isNotFound(err) && attempt === 0) {
          this.handles.delete(c.name)
          continue
        }
        if (isNotFound(err)) throw new CollectionNotFoundError(name)
        throw chromaFailure(err, this.opts.chromaTimeoutMs)
      }
    }
  }

  async list (user: string): Promise<CollectionInfo[]> {
    const out: CollectionInfo[] = []
    const page = 100
    try {
      for (let offset = 0; ; offset += page) {
        const batch = await this.chroma.listCollections({ limit: page, offset })
        for (const c of batch) {
          const m = c.metadata as ChromaMetadata | undefined
          if (typeof m?.[KEY.owner] !== 'string') continue // not a user collection (thread memory, for one)
          if (m[KEY.owner] === user || m[KEY.shared] === true) out.push(info(c))
        }
        if (batch.length < page) break
      }
    } catch (err) {
      throw chromaFailure(err, this.opts.chromaTimeoutMs)
    }
    return out.sort((a, b) => Number(b.owner === user) - Number(a.owner === user) || a.name.localeCompare(b.name))
  }

  async create (user: string, body: { name: string, metadata?: MemoryMetadata | undefined, shared?: boolean | undefined }): Promise<CollectionInfo> {
    const shared = body.shared === true
    const own = await this.open(privateName(user, body.name))
    const common = await this.open(sharedName(body.name))
    // One name, one collection, for its owner: no private and shared pair they could confuse.
    if (own || (common && (shared || common.metadata?.[KEY.owner] === user))) throw new CollectionExistsError(body.name)
    const dimensions = await this.embedder.dimensions()
    const metadata: ChromaMetadata = {
      ...embeddingMetadata(this.embedder.model, dimensions),
      [KEY.owner]: user,
      [KEY.name]: body.name,
      [KEY.shared]: shared,
      [KEY.createdAt]: new Date().toISOString()
    }
    for (const [k, v] of Object.entries(body.metadata ?? {})) metadata[USER_META + k] = v
    const internal = shared ? sharedName(body.name) : privateName(user, body.name)
    try {
      const c = await this.chroma.createCollection({ name: internal, metadata: metadata as never, embeddingFunction: null as never })
      this.handles.set(internal, c)
      return info(c, 0)
    } catch (err) {
      if (err instanceof ChromaUniqueError) throw new CollectionExistsError(body.name)
      throw chromaFailure(err, this.opts.chromaTimeoutMs)
    }
  }

  async get (user: string, name: string): Promise<CollectionInfo> {
    return await this.with(user, name, 'read', async (c) => info(c, await c.count()))
  }

  async remove (user: string, name: string): Promise<void> {
    await this.with(user, name, 'write', async (c) => {
      await this.chroma.deleteCollection({ name: c.name })
      this.handles.delete(c.name)
    })
  }

  private remedy (name: string): string {
    return `make a new collection for ${this.embedder.model} and upsert the documents into it, or configure the model "${name}" was built with`
  }

  /**
   * Upserts documents: an absent id is derived from the content (contentId), so a retried call or a repeated
   * paste never duplicates; a repeated id is written once (the last one wins) and replaces what that id held,
   * metadata included. Embedded in batches, written in batches.
   */
  async upsert (user: string, name: string, docs: DocumentInput[]): Promise<{ ids: string[], upserted: number }> {
    const ids = docs.map((d) => d.id ?? contentId(d))
    const last = new Map<string, number>()
    ids.forEach((id, i) => last.set(id, i))
    const unique = [...last.values()].sort((a, b) => a - b).map((i) => ({ id: ids[i]!, doc: docs[i]! }))
    await this.with(user, name, 'write', async (c) => {
      checkEmbedding(`Collection "${name}"`, c.metadata as ChromaMetadata, this.embedder.model, undefined, this.remedy(name))
      const embeddings = await this.embedder.embed(unique.map((u) => u.doc.text))
      checkEmbedding(`Collection "${name}"`, c.metadata as ChromaMetadata, this.embedder.model, embeddings[0]?.length, this.remedy(name))
      this.maxBatch ??= await this.chroma.getMaxBatchSize()
      const size = Math.min(this.opts.upsertBatch, this.maxBatch)
      for (let i = 0; i < unique.length; i += size) {
        const chunk = unique.slice(i, i + size)
        const chunkIds = chunk.map((u) => u.id)
        // Chroma's upsert merges metadata into what an id held; a replacement must not keep old keys.
        const before = await c.get({ ids: chunkIds, include: ['metadatas'] as never })
        const next = new Map(chunk.map((u) => [u.id, u.doc.metadata ?? {}]))
        const stale = before.ids.filter((id, j) => {
          const old = before.metadatas[j]
          return old && Object.keys(old).some((k) => !(k in next.get(id)!))
        })
        if (stale.length) await c.delete({ ids: stale })
        await c.upsert({
          ids: chunkIds,
          embeddings: embeddings.slice(i, i + size),
          documents: chunk.map((u) => u.doc.text),
          metadatas: chunk.map((u) => (u.doc.metadata && Object.keys(u.doc.metadata).length ? u.doc.metadata : null)) as Metadata[]
        })
      }
    })
    return { ids, upserted: unique.length }
  }

  async getDocument (user: string, name: string, id: string): Promise<DocumentRecord> {
    return await this.with(user, name, 'read', async (c) => {
      const res = await c.get({ ids: [id], include: ['documents', 'metadatas'] as never })
      if (!res.ids.length) throw new DocumentNotFoundError(id, name)
      return { id, text: res.documents[0] ?? '', metadata: (res.metadatas[0] ?? {}) as MemoryMetadata }
    })
  }

  async deleteDocument (user: string, name: string, id: string): Promise<void> {
    await this.with(user, name, 'write', async (c) => {
      const res = await c.get({ ids: [id], include: [] as never })
      if (!res.ids.length) throw new DocumentNotFoundError(id, name)
      await c.delete({ ids: [id] })
    })
  }

  /** The k documents closest to `text`, best first, optionally filtered by metadata. */
  async query (user: string, name: string, q: { text: string, k: number, where?: Record<string, unknown> | undefined }): Promise<SearchHit[]> {
    return await this.with(user, name, 'read', async (c) => {
      checkEmbedding(`Collection "${name}"`, c.metadata as ChromaMetadata, this.embedder.model, undefined, this.remedy(name))
      const [embedding] = await this.embedder.embed([q.text])
      checkEmbedding(`Collection "${name}"`, c.metadata as ChromaMetadata, this.embedder.model, embedding!.length, this.remedy(name))
      try {
        const res = await c.query({
          queryEmbeddings: [embedding!],
          nResults: q.k,
          ...(q.where && Object.keys(q.where).length ? { where: q.where as Where } : {}),
          include: ['documents', 'metadatas', 'distances'] as never
        })
        return toHits(res)
      } catch (err) {
        if (q.where && (err instanceof ChromaValueError || err instanceof ChromaClientError || err instanceof InvalidArgumentError)) throw new BadFilterError(err.message.replace(/^.*with status: /, ''))
        throw err
      }
    })
  }
}
