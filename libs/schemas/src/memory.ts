import { Type, type Static } from 'typebox'

// Memory: the chroma-service's HTTP bodies under `/api` (collections, documents, semantic queries, memory search)
// and its NATS memory search (`skein.memory.search`). Chroma is an index that can be rebuilt, not a store of record.

/** A collection's name as users give it; stored in Chroma under an internal name scoped to its owner. */
export const CollectionName = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^[A-Za-z0-9](?:[A-Za-z0-9_-]{0,62}[A-Za-z0-9])?$',
  description: 'Letters, digits, _ and -; starts and ends with a letter or digit; up to 64',
  examples: ['field-notes']
})

/** A document id: given by the caller, or generated (a UUID). The same id twice replaces, never duplicates. */
export const DocumentId = Type.String({
  minLength: 1,
  maxLength: 128,
  pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$',
  description: 'Letters, digits, . _ : and -; starts with a letter or digit; up to 128',
  examples: ['note-42']
})

/**
 * A string, number or boolean, as one JSON-schema type list rather than a union: services validate with type
 * coercion, which would turn every number of a union's first branch (string) into text.
 */
export const MemoryMetadataValue = Type.Unsafe<string | number | boolean>({ type: ['string', 'number', 'boolean'], maxLength: 4096 })

/** Metadata of a collection or a document: flat, scalar values; keys must not start with `$` or `#` (Chroma's). */
export const MemoryMetadata = Type.Record(Type.String({ pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$' }), MemoryMetadataValue, {
  maxProperties: 32,
  additionalProperties: false,
  description: 'Up to 32 keys (letters, digits, _ . -); values are strings, numbers or booleans',
  examples: [{ topic: 'birds', year: 2024 }]
})
export type MemoryMetadata = Static<typeof MemoryMetadata>

export const CreateCollectionBody = Type.Object({
  name: CollectionName,
  metadata: Type.Optional(MemoryMetadata),
  shared: Type.Optional(Type.Boolean({ default: false, description: 'Readable (and queryable) by every user; only its owner may write to it or delete it' }))
}, { additionalProperties: false, title: 'CreateCollectionBody', examples: [{ name: 'field-notes', metadata: { topic: 'birds' } }] })
export type CreateCollectionBody = Static<typeof CreateCollectionBody>

export const CollectionInfo = Type.Object({
  name: CollectionName,
  owner: Type.String({ examples: ['alice'] }),
  shared: Type.Boolean(),
  metadata: MemoryMetadata,
  embedding: Type.Object({
    model: Type.String({ examples: ['skein-sim-embed'] }),
    dimensions: Type.Integer({ minimum: 1, examples: [256] })
  }, { description: 'The embedding model and dimension the collection was built with; another one is refused (409)' }),
  createdAt: Type.String({ format: 'date-time' }),
  count: Type.Optional(Type.Integer({ minimum: 0, description: 'Documents in it (GET /api/collections/:name only)' }))
}, { title: 'CollectionInfo' })
export type CollectionInfo = Static<typeof CollectionInfo>

export const CollectionList = Type.Object({
  collections: Type.Array(CollectionInfo, { description: 'Yours, then the ones others share' })
}, { title: 'CollectionList' })
export type CollectionList = Static<typeof CollectionList>

export const DocumentInput = Type.Object({
  id: Type.Optional(DocumentId),
  text: Type.String({ minLength: 1, maxLength: 32_000, examples: ['Puffins nest in burrows on grassy cliff tops.'] }),
  metadata: Type.Optional(MemoryMetadata)
}, { additionalProperties: false, title: 'DocumentInput' })
export type DocumentInput = Static<typeof DocumentInput>

export const UpsertDocumentsBody = Type.Object({
  documents: Type.Array(DocumentInput, { minItems: 1, maxItems: 10_000, description: 'Up to 10,000 per call (and MEMORY_UPSERT_BODY_LIMIT bytes, 32 MiB by default); split into batches inside. A document without an id gets one derived from its text and metadata, so sending it again (or retrying the call) stores it once' })
}, {
  additionalProperties: false,
  title: 'UpsertDocumentsBody',
  examples: [{ documents: [{ id: 'note-42', text: 'Puffins nest in burrows on grassy cliff tops.', metadata: { topic: 'birds' } }, { text: 'Gannets dive from thirty metres.' }] }]
})
export type UpsertDocumentsBody = Static<typeof UpsertDocumentsBody>

export const UpsertDocumentsReply = Type.Object({
  ids: Type.Array(DocumentId, { description: 'The id of each document, in the order given (generated where none was given)' }),
  upserted: Type.Integer({ minimum: 0, description: 'Distinct documents written (a repeated id counts once: the last one wins)' })
}, { title: 'UpsertDocumentsReply', examples: [{ ids: ['note-42', 'd-7476f295760e65260486ff05e4984f82'], upserted: 2 }] })
export type UpsertDocumentsReply = Static<typeof UpsertDocumentsReply>

export const DocumentRecord = Type.Object({
  id: DocumentId,
  text: Type.String(),
  metadata: MemoryMetadata
}, { title: 'DocumentRecord', examples: [{ id: 'note-42', text: 'Puffins nest in burrows on grassy cliff tops.', metadata: { topic: 'birds' } }] })
export type DocumentRecord = Static<typeof DocumentRecord>

export const QueryBody = Type.Object({
  text: Type.String({ minLength: 1, maxLength: 8_000, examples: ['where do puffins nest?'] }),
  k: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 10, description: 'How many results, at most' })),
  where: Type.Optional(Type.Record(Type.String(), Type.Unknown(), {
    description: 'A Chroma metadata filter: { "topic": "birds" }, { "year": { "$gte": 2020 } }, { "$and": [...] }, { "$or": [...] }',
    examples: [{ topic: 'birds' }]
  }))
}, { additionalProperties: false, title: 'QueryBody', examples: [{ text: 'where do puffins nest?', k: 3, where: { topic: 'birds' } }] })
export type QueryBody = Static<typeof QueryBody>

/** One search result: the closest first. */
export const SearchHit = Type.Object({
  id: Type.String(),
  text: Type.String(),
  score: Type.Number({ description: 'Cosine similarity: 1 is identical, 0 unrelated' }),
  metadata: Type.Record(Type.String(), MemoryMetadataValue)
}, { title: 'SearchHit' })
export type SearchHit = Static<typeof SearchHit>

export const QueryReply = Type.Object({
  results: Type.Array(SearchHit, { description: 'Best first' })
}, { title: 'QueryReply', examples: [{ results: [{ id: 'note-42', text: 'Puffins nest in burrows on grassy cliff tops.', score: 0.83, metadata: { topic: 'birds' } }] }] })
export type QueryReply = Static<typeof QueryReply>

const SCOPE = 'main: all the memory you may read; thread: one thread (id); room: one room and the tasks started in it (id)'
export const MemoryScope = Type.Union([Type.Literal('main'), Type.Literal('thread'), Type.Literal('room')], { description: SCOPE })
export type MemoryScope = Static<typeof MemoryScope>

export const MemorySearchQuery = Type.Object({
  q: Type.String({ minLength: 1, maxLength: 2000, examples: ['lighthouses guide ships'] }),
  scope: Type.Optional(Type.Union([Type.Literal('main'), Type.Literal('thread'), Type.Literal('room')], { default: 'main', description: SCOPE })),
  id: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'The thread or room (default: main)', examples: ['t-3f0e1c9a5b1d'] })),
  k: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, default: 5 }))
}, { title: 'MemorySearchQuery' })
export type MemorySearchQuery = Static<typeof MemorySearchQuery>

export const MemorySearchReply = Type.Object({
  results: Type.Array(SearchHit, {
    description: 'Best first. Metadata: thread, room, parent ("" for main), author, role, from (the task a report comes from), ts, private'
  })
}, {
  title: 'MemorySearchReply',
  examples: [{ results: [{ id: 'answer-t-3f0e1c9a5b1d', text: 'Lighthouses guide ships past the reefs.', score: 0.71, metadata: { thread: 't-3f0e1c9a5b1d', room: 'main', parent: 'main', author: 'assistant', role: 'assistant', from: '', ts: '2025-01-01T12:00:00.000Z', private: false } }] }]
})
export type MemorySearchReply = Static<typeof MemorySearchReply>

/**
 * `skein.memory.search` (NATS request/reply): `thread` is the thread asking (its own messages are always
 * searchable to it); `user`, when given, also opens that user's private rooms.
 */
export const MemorySearchRequest = Type.Object({
  query: Type.String({ minLength: 1 }),
  k: Type.Optional(Type.Integer({ minimum: 1, maximum: 50 })),
  scope: Type.Optional(MemoryScope),
  id: Type.Optional(Type.String()),
  thread: Type.Optional(Type.String()),
  user: Type.Optional(Type.String())
}, { title: 'MemorySearchRequest' })
export type MemorySearchRequest = Static<typeof MemorySearchRequest>
