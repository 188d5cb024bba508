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

export interface RebuildProgress {
  phase: 'indexing' | 'swapping' | 'catching up'
  /** Message events read from the stream so far, of `total`. */
  read: number
  total: number
  /** Documents written to the new collection so far. */
  indexed: number
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

/**
 * Re-indexes thread memory from the JetStream stream into a fresh collection, then puts it in the old one's
 * place. The old collection answers searches until the swap; the live indexers keep running. Whatever they
 * write around the swap is published before the final catch-up, which reads the stream up to its end again,
 * so nothing is lost and nothing is doubled (the message id is the document id).
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

  const ids = new Set<string>()
  const skipped = { notMemory: 0, noRecord: 0, refused: 0 }
  let read = 0
  let total = 0

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
      onProgress({ phase, read, total, indexed: ids.size })
    }
    await readRange(js, THREADS_STREAM, MESSAGE_EVENTS, afterSeq, endSeq, async (m) => {
      last = m.seq
      read++
      const message = memoryMessage(m.json<ThreadEventPayload>())
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

  const last = await readInto(new MemoryIndex(chroma, embedder, temporary), 0, 'indexing')

  onProgress({ phase: 'swapping', read, total, indexed: ids.size })
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
    documents: ids.size,
    count: await index.count(),
    previousCount,
    skipped,
    ms: Math.round(performance.now() - started)
  }
}
