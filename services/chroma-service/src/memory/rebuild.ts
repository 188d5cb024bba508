import { jetstream, jetstreamManager, JetStreamApiError } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import { ChromaUniqueError, type ChromaClient, type Collection } from 'chromadb'
import { THREADS_STREAM, lastSeqOn, readRange } from '@skein/bus'
import type { ThreadEventPayload } from '@skein/schemas'
import { isNotFound } from '../collections/chroma-errors.js'
import { embeddingMetadata } from '../collections/collection-store.js'
import type { Embedder } from '../embeddings/embedder.js'
import { MemoryIndex, memoryDocument, memoryMessage, type MemoryDocument } from './memory-index.js'
import { ThreadLookupError, type ThreadDirectory } from './thread-directory.js'
import { MESSAGE_EVENTS } from './thread-memory.js'

const STREAM_NOT_FOUND = 10059
const LOOKUP_ATTEMPTS = 15
/** Documents read from the previous collection per request, when carrying over what the stream no longer has. */
const CARRY_PAGE = 500

export interface RebuildProgress {
  phase: 'indexing' | 'carrying over' | 'swapping' | 'catching up'
  /** Message events read from the stream so far, of `total`. */
  read: number
  total: number
  /** Documents written to the new collection so far (from the stream, and carried over). */
  indexed: number
  /** Of them, carried over from the previous collection: their messages are no longer in the stream. */
  carried: number
}

export interface RebuildReport {
  collection: string
  embeddingModel: string
  /** Message events read from SKEIN_THREADS. */
  messages: number
  /** Distinct documents in the rebuilt collection. */
  documents: number
  count: number
  /** Documents the collection held before (null: there was none). */
  previousCount: number | null
  /**
   * Documents carried over from the previous collection (text and metadata as they were, embedded again) because
   * the stream no longer has their messages (it keeps events THREAD_EVENTS_MAX_AGE_S): memory is their only copy.
   */
  carried: number
  skipped: {
    /** System notes and other messages memory does not keep. */
    notMemory: number
    /** Messages of threads without a record: who may read them is unknown. */
    noRecord: number
    /** Messages whose text the embedding backend refuses (the live indexer sets them aside too). */
    refused: number
  }
  ms: number
}

export interface RebuildDeps {
  nc: NatsConnection
  chroma: ChromaClient
  embedder: Embedder
  directory: ThreadDirectory
  /** The memory collection's name (MEMORY_COLLECTION). */
  collection: string
  batch: number
  /** Documents read from the previous collection per request while carrying over (default 500). */
  page?: number
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

async function openOrNull (chroma: ChromaClient, name: string): Promise<Collection | null> {
  try {
    return await chroma.getCollection({ name, embeddingFunction: null as never })
  } catch (err) {
    if (isNotFound(err)) return null
    throw err
  }
}

/** The id a message event carries (memory's or not: a system note has one too); '' when none. */
const messageId = (payload: ThreadEventPayload): string => (typeof payload.data.id === 'string' ? payload.data.id : '')

/**
 * Re-indexes thread memory from the JetStream stream into a fresh collection, then puts it in the old one's
 * place. The stream keeps events for a while only, so the documents of the previous collection whose messages it
 * no longer has are carried over (their text embedded again with the current model): memory is their only copy,
 * and a rebuild never loses them. When the previous collection cannot be read completely, the rebuild fails
 * before the swap and leaves it in place. The old collection answers searches until the swap; the live indexers
 * keep running. Whatever they write around the swap is published before the final catch-up, which reads the
 * stream up to its end again, so nothing is lost and nothing is doubled (the message id is the document id).
 */
export async function rebuildMemory (deps: RebuildDeps, onProgress: (p: RebuildProgress) => void = () => {}): Promise<RebuildReport> {
  const started = performance.now()
  const { chroma, embedder, directory, collection: name } = deps
  const js = jetstream(deps.nc)
  const jsm = await jetstreamManager(deps.nc)
  try {
    await jsm.streams.info(THREADS_STREAM)
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === STREAM_NOT_FOUND) throw new Error(`there is no ${THREADS_STREAM} stream on this NATS server: no thread has ever been written, so there is nothing to rebuild from`)
    throw err
  }

  const previous = await openOrNull(chroma, name)
  const previousCount = previous ? await previous.count() : null
  const temporary = `${name}-rebuild`
  if (await openOrNull(chroma, temporary)) await chroma.deleteCollection({ name: temporary }) // a rebuild that stopped half-way
  const dimensions = await embedder.dimensions()
  const fresh = await chroma.createCollection({ name: temporary, embeddingFunction: null as never, metadata: embeddingMetadata(embedder.model, dimensions) as never })

  const building = new MemoryIndex(chroma, embedder, temporary)
  /** Documents in the new collection from the stream's messages. */
  const ids = new Set<string>()
  /** Every message id the stream has (indexed or skipped): those are the stream's to decide, never carried over. */
  const inStream = new Set<string>()
  /** Documents in the new collection carried over from the previous one. */
  const carried = new Set<string>()
  const skipped = { notMemory: 0, noRecord: 0, refused: 0 }
  let read = 0
  let total = 0
  const progress = (phase: RebuildProgress['phase']): void => { onProgress({ phase, read, total, indexed: ids.size + carried.size, carried: carried.size }) }

  /** Reads message events after `afterSeq` up to the last one stored now, indexing them into `index`; the last seq read. */
  const readInto = async (index: MemoryIndex, afterSeq: number, phase: RebuildProgress['phase']): Promise<number> => {
    const endSeq = await lastSeqOn(jsm, THREADS_STREAM, [MESSAGE_EVENTS])
    total += Math.max(0, endSeq - afterSeq) // an upper bound: other events sit between the messages
    let last = afterSeq
    let docs: MemoryDocument[] = []
    const flush = async (): Promise<void> => {
      const unique = [...new Map(docs.map((d) => [d.id, d])).values()]
      docs = []
      const { docs: accepted, embeddings, refused } = await index.embedAccepted(unique)
      for (const r of refused) ids.delete(r.doc.id)
      skipped.refused += refused.length
      await index.upsert(accepted, embeddings)
      progress(phase)
    }
    await readRange(js, THREADS_STREAM, MESSAGE_EVENTS, afterSeq, endSeq, async (m) => {
      last = m.seq
      read++
      const payload = m.json<ThreadEventPayload>()
      const id = messageId(payload)
      if (id) {
        inStream.add(id)
        carried.delete(id) // a live indexer wrote it to the previous collection after the first read: the stream's after all
      }
      const message = memoryMessage(payload)
      if (!message) {
        skipped.notMemory++
        return
      }
      const doc = await placed(message)
      if (!doc) {
        skipped.noRecord++
        return
      }
      docs.push(doc)
      ids.add(doc.id)
      if (docs.length >= deps.batch) await flush()
    })
    await flush()
    total = read
    return last
  }

  /** A message's document, waiting (bounded) while the thread records cannot be read. */
  const placed = async (message: NonNullable<ReturnType<typeof memoryMessage>>): Promise<MemoryDocument | null> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await memoryDocument(message, directory)
      } catch (err) {
        if (!(err instanceof ThreadLookupError) || attempt >= LOOKUP_ATTEMPTS) throw err
        await delay(2_000)
      }
    }
  }

  /**
   * Carries over into the new collection the documents of the previous one whose messages the stream does not
   * have, page by page, embedding their text again in batches. Throws (before the swap: the previous collection
   * stays) when a page fails, a document comes without its text or metadata, the embedding backend refuses one,
   * or fewer documents were read than the collection held.
   */
  const carryOver = async (from: Collection, expected: number): Promise<void> => {
    const incomplete = (why: string): Error => new Error(`the previous collection "${name}" cannot be carried over completely (${why}); it is left in place, nothing was deleted`)
    const listed = new Set<string>()
    const write = async (batch: MemoryDocument[]): Promise<void> => {
      const { docs: accepted, embeddings, refused } = await building.embedAccepted(batch)
      if (refused.length) throw incomplete(`${embedder.model} refuses the text of ${refused.length} document(s) the stream no longer has, e.g. ${refused[0]!.doc.id}: ${refused[0]!.reason}`)
      await building.upsert(accepted, embeddings)
      for (const d of accepted) carried.add(d.id)
      progress('carrying over')
    }
    const docs: MemoryDocument[] = []
    const limit = deps.page ?? CARRY_PAGE
    for (let offset = 0; ; offset += limit) {
      const page = await from.get({ limit, offset, include: ['documents', 'metadatas'] as never })
      for (const [i, id] of page.ids.entries()) {
        listed.add(id)
        if (inStream.has(id) || carried.has(id)) continue
        const text = page.documents[i]
        const metadata = page.metadatas[i]
        if (typeof text !== 'string' || !metadata) throw incomplete(`document ${id} came without its ${typeof text !== 'string' ? 'text' : 'metadata'}`)
        docs.push({ id, text, metadata })
      }
      while (docs.length >= deps.batch) await write(docs.splice(0, deps.batch))
      if (page.ids.length < limit) break
    }
    if (docs.length) await write(docs)
    if (listed.size < expected) throw incomplete(`${listed.size} of its ${expected} documents could be read`)
  }

  const last = await readInto(building, 0, 'indexing')
  if (previous) {
    await carryOver(previous, previousCount ?? 0)
    const held = await building.count()
    if (held < ids.size + carried.size) throw new Error(`the new collection holds ${held} documents, not the ${ids.size + carried.size} written to it; the previous collection "${name}" is left in place, nothing was deleted`)
  }

  progress('swapping')
  const retired = `${name}-old-${Date.now()}`
  if (previous) await previous.modify({ name: retired })
  for (let attempt = 1; ; attempt++) {
    try {
      await fresh.modify({ name })
      break
    } catch (err) {
      // A live indexer made an empty one in the instant between the two renames: what it held is caught up below.
      if (!(err instanceof ChromaUniqueError) || attempt >= 3) throw err
      await chroma.deleteCollection({ name })
    }
  }
  if (previous) await chroma.deleteCollection({ name: retired })

  const index = new MemoryIndex(chroma, embedder, name)
  await readInto(index, last, 'catching up')
  return {
    collection: name,
    embeddingModel: embedder.model,
    messages: read,
    documents: ids.size + carried.size,
    count: await index.count(),
    previousCount,
    carried: carried.size,
    skipped,
    ms: Math.round(performance.now() - started)
  }
}
