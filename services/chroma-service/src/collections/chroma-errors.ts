import { ChromaConnectionError, ChromaNotFoundError, ChromaServerError } from 'chromadb'
import { MemoryUnavailableError } from '../errors.js'

/** Chroma is down or failing (as opposed to refusing a request): a 503 the client can retry. */
export function isChromaDown (err: unknown): boolean {
  return err instanceof ChromaConnectionError || err instanceof ChromaServerError
}

export function isNotFound (err: unknown): boolean {
  return err instanceof ChromaNotFoundError
}

/**
 * What a Chroma failure becomes for a client: 503 MEMORY_UNAVAILABLE when Chroma is down, unreachable or silent
 * past CHROMA_TIMEOUT_MS (`timeoutMs`, named in the message), otherwise unchanged.
 */
export function chromaFailure (err: unknown, timeoutMs?: number): unknown {
  if (!isChromaDown(err)) return err
  return new MemoryUnavailableError(err instanceof ChromaConnectionError ? connectionProblem(err, timeoutMs) : `the Chroma server failed: ${(err as Error).message.slice(0, 200)}`)
}

// chromadb turns a refused connection (fetch's "fetch failed") into "Failed to connect to chromadb. Make sure your
// server is running…", and anything else fetch rejects with (the deadline's TimeoutError) into "Failed to connect to Chroma".
function connectionProblem (err: ChromaConnectionError, timeoutMs: number | undefined): string {
  if (err.message.startsWith('Failed to connect to chromadb')) return 'no answer from the Chroma server: it cannot be reached'
  const limit = timeoutMs === undefined ? 'CHROMA_TIMEOUT_MS' : `CHROMA_TIMEOUT_MS (${timeoutMs} ms)`
  return `the Chroma server did not answer within ${limit}; raise CHROMA_TIMEOUT_MS if it is only slow`
}
