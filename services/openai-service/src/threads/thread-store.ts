import { JetStreamApiError } from '@nats-io/jetstream'
import { neverReached, patiently } from '@skein/bus'
import type { KV } from '@nats-io/kv'
import type { ThreadRecord, ThreadStatus } from '@skein/schemas'

const WRONG_LAST_SEQUENCE = 10071
const CAS_ATTEMPTS = 50

const isConflict = (err: unknown): boolean => err instanceof JetStreamApiError && err.code === WRONG_LAST_SEQUENCE

/** Thread records in the `skein-threads` KV bucket: created if absent, changed only by compare-and-swap. */
export class ThreadStore {
  /** `retryMs`: how long a read or write is retried while NATS is briefly away (a restart, a leader elected). */
  constructor (private readonly kv: KV, private readonly retryMs = 20_000) {}

  async get (id: string): Promise<ThreadRecord | null> {
    const entry = await patiently(() => this.kv.get(id), this.retryMs)
    if (!entry || entry.operation !== 'PUT' || entry.length === 0) return null
    return entry.json<ThreadRecord>()
  }

  /** Writes the record only if no thread has that id yet; false when one already exists. */
  async create (record: ThreadRecord): Promise<boolean> {
    try {
      await patiently(() => this.kv.create(record.id, JSON.stringify(record)), this.retryMs)
      return true
    } catch (err) {
      if (isConflict(err)) return false
      throw err
    }
  }

  /**
   * Changes a record by compare-and-swap: `change` sees the current record and returns the next one, or null
   * to leave it as it is. Retried on a concurrent write, so every writer's change lands exactly once.
   */
  async update (id: string, change: (current: ThreadRecord) => ThreadRecord | null): Promise<{ record: ThreadRecord, changed: boolean } | null> {
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const entry = await patiently(() => this.kv.get(id), this.retryMs)
      if (!entry || entry.operation !== 'PUT' || entry.length === 0) return null
      const current = entry.json<ThreadRecord>()
      const next = change(structuredClone(current))
      if (!next) return { record: current, changed: false }
      next.updatedAt = new Date().toISOString()
      try {
        // Made again only when nothing received it (a leader being elected): after a timeout it may have
        // landed, and `change` (adding usage…) must not apply twice.
        await patiently(() => this.kv.update(id, JSON.stringify(next), entry.revision), this.retryMs, neverReached)
        return { record: next, changed: true }
      } catch (err) {
        if (!isConflict(err)) throw err
      }
    }
    throw new Error(`thread ${id}: too many concurrent writers`)
  }

  /** Every record, filtered (the bucket is small: records, not messages). */
  async list (filter: { status?: ThreadStatus, parent?: string, root?: string } = {}): Promise<ThreadRecord[]> {
    const out: ThreadRecord[] = []
    for await (const key of await this.kv.keys()) {
      const r = await this.get(key)
      if (!r) continue
      if (filter.status && r.status !== filter.status) continue
      if (filter.parent && r.parent !== filter.parent) continue
      if (filter.root && r.root !== filter.root) continue
      out.push(r)
    }
    return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id))
  }
}
