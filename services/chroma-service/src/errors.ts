import { createError } from '@skein/kit'

export const CollectionNotFoundError = createError<[string]>('MEMORY_COLLECTION_NOT_FOUND', 'No collection named "%s" (yours, or shared with you)', 404)
export const CollectionExistsError = createError<[string]>('MEMORY_COLLECTION_EXISTS', 'A collection named "%s" exists already; pick another name', 409)
export const CollectionReadOnlyError = createError<[string, string]>('MEMORY_COLLECTION_READ_ONLY', 'Collection "%s" is shared by %s: only its owner may change or delete it', 403)
export const DocumentNotFoundError = createError<[string, string]>('MEMORY_DOCUMENT_NOT_FOUND', 'No document "%s" in collection "%s"', 404)
export const EmbeddingMismatchError = createError<[string, string, string, string]>('MEMORY_EMBEDDING_MISMATCH', '%s was built with %s, but the configured embedding model gives %s: vectors of different models cannot be compared; %s', 409)
export const BadFilterError = createError<[string]>('MEMORY_BAD_FILTER', 'body/where is not a valid filter: %s', 400)
export const MemoryUnavailableError = createError<[string]>('MEMORY_UNAVAILABLE', 'Chroma is unavailable (%s); GET /api/health shows it. Try again once it is back', 503)
export const EmbeddingUnavailableError = createError<[string]>('MEMORY_EMBEDDING_UNAVAILABLE', 'The embedding backend failed: %s', 503)
export const EmbeddingRefusedError = createError<[string]>('MEMORY_EMBEDDING_REFUSED', 'The embedding backend refused the text: %s. Sending it again will not help: shorten or change the text', 422)
export const UpsertTooLargeError = createError<[number]>('MEMORY_PAYLOAD_TOO_LARGE', 'The request body is larger than MEMORY_UPSERT_BODY_LIMIT (%d bytes): send the documents in several calls, or raise MEMORY_UPSERT_BODY_LIMIT', 413)
