// The text a benchmark message carries and the latency maths done on what the receivers saw.

/** A wall-clock time in milliseconds with sub-millisecond precision, comparable across processes. */
export const nowMs = (): number => performance.timeOrigin + performance.now()

/** Filler that brings a benchmark message to the size of a short chat line (about 100 characters). */
const FILLER = 'the quick brown fox jumps over the lazy dog, twice over'

/** The text of benchmark message `index` of phase `tag` (a letter), stamped with its send time. */
export function stampText (tag: string, index: number, sentAtMs: number): string {
  return `${tag}:${index}:${sentAtMs.toFixed(3)}:${FILLER}`
}

export interface Stamp { tag: string, index: number, sentAtMs: number }

/** Reads back what stampText wrote; undefined for any other text. */
export function readStamp (text: string): Stamp | undefined {
  const a = text.indexOf(':')
  const b = a < 0 ? -1 : text.indexOf(':', a + 1)
  const c = b < 0 ? -1 : text.indexOf(':', b + 1)
  if (c < 0) return undefined
  const index = Number(text.slice(a + 1, b))
  const sentAtMs = Number(text.slice(b + 1, c))
  if (!Number.isInteger(index) || index < 0 || !Number.isFinite(sentAtMs)) return undefined
  return { tag: text.slice(0, a), index, sentAtMs }
}

export interface LatencySummary { count: number, p50: number, p99: number, max: number }

/** p50/p99 (nearest rank, as report.ts's percentile) and max of the first `count` samples. */
export function summarize (samples: Float64Array, count = samples.length): LatencySummary {
  if (count === 0) return { count: 0, p50: NaN, p99: NaN, max: NaN }
  const sorted = samples.slice(0, count).sort()
  const rank = (p: number): number => sorted[Math.min(count - 1, Math.max(0, Math.ceil((p / 100) * count) - 1))]!
  return { count, p50: rank(50), p99: rank(99), max: sorted[count - 1]! }
}

/** A growable list of latency samples kept in one typed array (hundreds of thousands of them). */
export class Samples {
  private data = new Float64Array(1024)
  count = 0

  add (value: number): void {
    if (this.count === this.data.length) {
      const bigger = new Float64Array(this.data.length * 2)
      bigger.set(this.data)
      this.data = bigger
    }
    this.data[this.count++] = value
  }

  summary (): LatencySummary {
    return summarize(this.data, this.count)
  }
}

/**
 * Per message, the latency of its first and of its last delivery: the first is the server's own path from the
 * sender to the room, last − first (the spread) is its fan-out to the room plus the clients' reading.
 */
export class MessageSpans {
  private readonly first: Float64Array
  private readonly last: Float64Array

  constructor (messages: number) {
    this.first = new Float64Array(messages).fill(Infinity)
    this.last = new Float64Array(messages).fill(-Infinity)
  }

  add (index: number, latency: number): void {
    if (index < 0 || index >= this.first.length) return
    if (latency < this.first[index]!) this.first[index] = latency
    if (latency > this.last[index]!) this.last[index] = latency
  }

  /** Adds each delivered message's first latency to `first` and its spread to `spread`. */
  addTo (first: Samples, spread: Samples): void {
    for (let i = 0; i < this.first.length; i++) {
      if (this.first[i] === Infinity) continue
      first.add(this.first[i]!)
      spread.add(this.last[i]! - this.first[i]!)
    }
  }
}

/**
 * The message indices one receiver (or the sender, for acks) has seen: a growable bitmap, so a flood of
 * hundreds of thousands of messages to a hundred receivers stays a few megabytes.
 */
export class SeenSet {
  private bits = new Uint8Array(1024)
  size = 0
  duplicates = 0

  /** Marks `index` seen; false (and counted as a duplicate) when it already was. */
  add (index: number): boolean {
    const byte = index >>> 3
    if (byte >= this.bits.length) {
      const bigger = new Uint8Array(Math.max(this.bits.length * 2, byte + 1))
      bigger.set(this.bits)
      this.bits = bigger
    }
    const mask = 1 << (index & 7)
    if ((this.bits[byte]! & mask) !== 0) {
      this.duplicates++
      return false
    }
    this.bits[byte] = this.bits[byte]! | mask
    this.size++
    return true
  }

  has (index: number): boolean {
    const byte = index >>> 3
    return byte < this.bits.length && (this.bits[byte]! & (1 << (index & 7))) !== 0
  }

  /** How many of `this` indices `other` lacks. */
  missingFrom (other: SeenSet): number {
    let missing = 0
    for (let byte = 0; byte < this.bits.length; byte++) {
      const lacking = this.bits[byte]! & ~(other.bits[byte] ?? 0)
      if (lacking !== 0) missing += popcount(lacking)
    }
    return missing
  }
}

function popcount (byte: number): number {
  let n = 0
  for (let b = byte & 0xff; b !== 0; b &= b - 1) n++
  return n
}
