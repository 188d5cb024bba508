import type { MemorySearchRequest, ThreadRecord } from '@skein/schemas'
import { readersOf } from './engine.js'

/** How many memory hits the search_memory tool quotes. */
export const MEMORY_SEARCH_K = 5

/**
 * The memory search a thread's search_memory call makes: it searches with the visibility of the places its
 * answer is shown in, never with more than every reader of those places may see.
 *
 * The tool's result is quoted into the thread itself, and the thread's answer is reported to the root of its
 * tree when it is private (to the main room when not). The memory side (`visibility` in the chroma-service)
 * knows one user at most: `user` opens every private room that user reads, so a search as the owner is
 * safe only where the owner is the only reader. Hence:
 * - a public thread (or a private one whose root is public or unknown) searches without a user: public
 *   memory plus the asking thread's own messages — what everyone may read anyway;
 * - a private thread whose readers and whose root's readers are just its owner searches as the owner (all
 *   the owner's memory, shown only to the owner);
 * - a private thread with other readers (a room with members) also searches without a user: searching as
 *   any one of them would show that person's other private rooms to the rest, and memory cannot filter for
 *   "readable by all of them".
 */
export async function memorySearchRequest (query: string, r: ThreadRecord, lookup: (id: string) => Promise<ThreadRecord | null>): Promise<MemorySearchRequest> {
  const base: MemorySearchRequest = { query, scope: 'main', k: MEMORY_SEARCH_K, thread: r.id }
  const own = readersOf(r)
  if (!own) return base
  const root = r.root === r.id ? r : await lookup(r.root)
  const room = root ? readersOf(root) : null
  if (!room) return base
  const readers = new Set([...own, ...room])
  return readers.size === 1 && readers.has(r.owner) ? { ...base, user: r.owner } : base
}
