/**
 * The fault grammar shared by the `x-sim-fault` header and the SIM_FAULT setting: comma-separated items, each
 * `key=value` or a bare flag, e.g. `status=503,retry-after=1,times=2,model=skein-sim-1`.
 *
 *   latency=MS        wait MS milliseconds before the first token (before the whole answer when not streaming)
 *   status=CODE       answer HTTP CODE (400-599) with an OpenAI-shaped error body
 *   retry-after=S     with status: also send `Retry-After: S`
 *   hang              never answer; the socket stays open until the client goes away
 *   cut-after=N       streams only: send N content chunks, then destroy the socket (no finish chunk, no [DONE])
 *   times=N           only the first N matching requests are faulted, counted per fault string per process
 *   model=NAME        only requests for that model are faulted
 */
export interface Fault {
  /** The text the fault was parsed from, trimmed: the key its `times` are counted under. */
  source: string
  latencyMs?: number
  status?: number
  retryAfterSeconds?: number
  hang: boolean
  cutAfter?: number
  times?: number
  model?: string
}

/** A fault text that does not follow the grammar; the message says which item and why. */
export class FaultSyntaxError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'FaultSyntaxError'
  }
}

const FLAGS = new Set(['hang'])
const KEYS = new Set(['latency', 'status', 'retry-after', 'cut-after', 'times', 'model'])

function integer (key: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value)) throw new FaultSyntaxError(`'${key}' needs a whole number, got '${value}'`)
  const n = Number(value)
  if (n < min || n > max) throw new FaultSyntaxError(`'${key}' must be between ${min} and ${max}, got ${n}`)
  return n
}

/** Parses a fault text; an empty (or blank) text is no fault at all and gives `undefined`. */
export function parseFault (text: string): Fault | undefined {
  const source = text.trim()
  if (!source) return undefined
  const fault: Fault = { source, hang: false }
  const seen = new Set<string>()
  for (const raw of source.split(',')) {
    const item = raw.trim()
    if (!item) continue
    const eq = item.indexOf('=')
    const key = (eq < 0 ? item : item.slice(0, eq)).trim().toLowerCase()
    const value = eq < 0 ? undefined : item.slice(eq + 1).trim()
    if (seen.has(key)) throw new FaultSyntaxError(`'${key}' is given twice`)
    seen.add(key)
    if (FLAGS.has(key)) {
      if (value !== undefined) throw new FaultSyntaxError(`'${key}' is a flag and takes no value`)
      fault.hang = true
      continue
    }
    if (!KEYS.has(key)) throw new FaultSyntaxError(`unknown fault '${key}'; known: latency, status, retry-after, hang, cut-after, times, model`)
    if (value === undefined || value === '') throw new FaultSyntaxError(`'${key}' needs a value, as in ${key}=…`)
    switch (key) {
      case 'latency': fault.latencyMs = integer(key, value, 0, 600_000); break
      case 'status': fault.status = integer(key, value, 400, 599); break
      case 'retry-after': fault.retryAfterSeconds = integer(key, value, 0, 86_400); break
      case 'cut-after': fault.cutAfter = integer(key, value, 0, 1_000_000); break
      case 'times': fault.times = integer(key, value, 1, 1_000_000); break
      case 'model': fault.model = value; break
    }
  }
  if (fault.retryAfterSeconds !== undefined && fault.status === undefined) {
    throw new FaultSyntaxError("'retry-after' only applies with 'status'")
  }
  if (fault.latencyMs === undefined && fault.status === undefined && !fault.hang && fault.cutAfter === undefined) {
    throw new FaultSyntaxError('no fault to inject: give latency, status, hang or cut-after')
  }
  return fault
}

/** Whether a fault does anything to a request for `model`, streamed or not (cut-after only cuts streams). */
export function faultApplies (fault: Fault, request: { model: string | undefined, stream: boolean }): boolean {
  if (fault.model !== undefined && fault.model !== request.model) return false
  return fault.latencyMs !== undefined || fault.status !== undefined || fault.hang || (fault.cutAfter !== undefined && request.stream)
}

/**
 * Counts how often each fault string has been applied, so `times=N` faults only the first N matching
 * requests. Holds at most `capacity` strings; the oldest is forgotten first.
 */
export class FaultCounter {
  private readonly used = new Map<string, number>()
  constructor (private readonly capacity = 10_000) {}

  /** Counts one more matching request; true while the fault should still apply to it. */
  take (fault: Fault): boolean {
    if (fault.times === undefined) return true
    const n = (this.used.get(fault.source) ?? 0) + 1
    this.used.delete(fault.source)
    this.used.set(fault.source, n)
    if (this.used.size > this.capacity) {
      const oldest = this.used.keys().next().value
      if (oldest !== undefined) this.used.delete(oldest)
    }
    return n <= fault.times
  }

  /** How many matching requests a fault string has seen. */
  count (source: string): number {
    return this.used.get(source.trim()) ?? 0
  }
}
