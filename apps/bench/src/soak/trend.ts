// The soak over time: its measured span cut into windows (a minute each), and in each window the funnel's
// memory and CPU, the delivery latency, the time to an answer's first token and how much was delivered.
import { Samples, type LatencySummary } from '../realtime/latency.js'

interface Slot {
  latency: Samples
  firstToken: Samples
  ack: Samples
  deliveries: number
  rss: number[]
  /** The first and last CPU reading of the funnel in the window: [time ms, CPU seconds]. */
  cpuFirst?: [number, number]
  cpuLast?: [number, number]
  load: number
}

export interface WindowStats {
  /** 0-based; -1 is the warm-up. */
  index: number
  /** Seconds from the start of the measured span (negative for the warm-up). */
  fromS: number
  toS: number
  rssKib: { median: number, max: number, samples: number }
  latency: LatencySummary
  firstToken: LatencySummary
  ack: LatencySummary
  deliveriesPerS: number
  /** The funnel's CPU in % of one core. */
  funnelCpu: number
  /** The machine's highest 1-minute load average in the window. */
  load: number
}

const slot = (): Slot => ({ latency: new Samples(), firstToken: new Samples(), ack: new Samples(), deliveries: 0, rss: [], load: 0 })

/**
 * Windows of `windowMs` from `startMs` (a performance.now() time: the end of the warm-up), `windows` of them;
 * what happens before goes to the warm-up, what happens after (the drain) is not counted.
 */
export class Trend {
  private readonly warm = slot()
  private readonly slots: Slot[]
  /** RSS readings over the measured span: [ms from its start, KiB]. */
  readonly rssPoints: Array<[number, number]> = []

  constructor (private readonly warmStartMs: number, readonly startMs: number, readonly windowMs: number, readonly windows: number) {
    this.slots = Array.from({ length: windows }, slot)
  }

  get endMs (): number {
    return this.startMs + this.windowMs * this.windows
  }

  private at (t: number): Slot | undefined {
    if (t < this.startMs) return t >= this.warmStartMs ? this.warm : undefined
    return this.slots[Math.floor((t - this.startMs) / this.windowMs)]
  }

  latency (t: number, ms: number): void { this.at(t)?.latency.add(ms) }
  firstToken (t: number, ms: number): void { this.at(t)?.firstToken.add(ms) }
  ack (t: number, ms: number): void { this.at(t)?.ack.add(ms) }
  delivered (t: number, n = 1): void {
    const s = this.at(t)
    if (s) s.deliveries += n
  }

  /** A reading of the funnel: its RSS, its CPU seconds so far, and the machine's load average. */
  sample (t: number, rssKib: number, cpuS: number, load: number): void {
    const s = this.at(t)
    if (!s) return
    s.rss.push(rssKib)
    s.cpuFirst ??= [t, cpuS]
    s.cpuLast = [t, cpuS]
    s.load = Math.max(s.load, load)
    if (t >= this.startMs) this.rssPoints.push([t - this.startMs, rssKib])
  }

  /** The warm-up (index -1) and every measured window. */
  stats (): WindowStats[] {
    const of = (s: Slot, index: number): WindowStats => {
      const from = index < 0 ? this.warmStartMs : this.startMs + index * this.windowMs
      const to = index < 0 ? this.startMs : from + this.windowMs
      const cpu = s.cpuFirst && s.cpuLast && s.cpuLast[0] > s.cpuFirst[0] ? ((s.cpuLast[1] - s.cpuFirst[1]) / ((s.cpuLast[0] - s.cpuFirst[0]) / 1000)) * 100 : NaN
      return {
        index,
        fromS: (from - this.startMs) / 1000,
        toS: (to - this.startMs) / 1000,
        rssKib: { median: median(s.rss), max: s.rss.length ? Math.max(...s.rss) : NaN, samples: s.rss.length },
        latency: s.latency.summary(),
        firstToken: s.firstToken.summary(),
        ack: s.ack.summary(),
        deliveriesPerS: to > from ? s.deliveries / ((to - from) / 1000) : NaN,
        funnelCpu: cpu,
        load: s.load
      }
    }
    return [of(this.warm, -1), ...this.slots.map((s, i) => of(s, i))]
  }
}

export function median (values: number[]): number {
  if (!values.length) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** The least-squares slope of [ms, value] points, per minute (NaN with fewer than two distinct times). */
export function slopePerMinute (points: Array<[number, number]>): number {
  const n = points.length
  if (n < 2) return NaN
  const mt = points.reduce((a, [t]) => a + t, 0) / n
  const mv = points.reduce((a, [, v]) => a + v, 0) / n
  let num = 0
  let den = 0
  for (const [t, v] of points) {
    num += (t - mt) * (v - mv)
    den += (t - mt) ** 2
  }
  return den === 0 ? NaN : (num / den) * 60_000
}

export interface GrowthVerdict { ratio: number, pass: boolean | undefined }

/** The end RSS over the start RSS, and whether it is within `limit` (undefined when either is unknown). */
export function rssGrowth (startKib: number, endKib: number, limit: number): GrowthVerdict {
  if (!Number.isFinite(startKib) || !Number.isFinite(endKib) || startKib <= 0) return { ratio: NaN, pass: undefined }
  const ratio = endKib / startKib
  return { ratio, pass: ratio <= limit }
}
