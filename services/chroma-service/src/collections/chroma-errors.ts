import { ChromaConnectionError, ChromaNotFoundError, ChromaServerError } from 'chromadb'
import { MemoryUnavailableError } from '../errors.js'

/** Chroma is down or failing (as opposed to refusing a request): a 503 the client can retry. */
export function isChromaDown (err: unknown): boolean {
  return err instanceof ChromaConnectionError || err instanceof ChromaServerError
}

export function isNotFound (err: unknown): boolean {
  return err instanceof ChromaNotFoundError
}

/** What a Chroma failure becomes for a client: 503 MEMORY_UNAVAILABLE when Chroma is down, otherwise unchanged. */
export function chromaFailure (err: unknown): unknown {
  if (!isChromaDown(err)) return err
  const message = err instanceof ChromaConnectionError ? 'no answer from the Chroma server' : `the Chroma server failed: ${(err as Error).message.slice(0, 200)}`
  return new MemoryUnavailableError(message)
}
