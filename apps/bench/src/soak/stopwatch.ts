/**
 * Times from a start to an end that may be seen in either order (an ack, and the first event it is timed to):
 * `onPair(endAt, ms)` runs once per key, when both are in. Only a key's first end counts.
 */
export class Stopwatch {
  private readonly starts = new Map<string, number>()
  private readonly ends = new Map<string, number>()

  constructor (private readonly onPair: (endAt: number, ms: number) => void) {}

  start (key: string, at: number): void {
    this.starts.set(key, at)
    this.pair(key)
  }

  end (key: string, at: number): void {
    if (this.ends.has(key)) return
    this.ends.set(key, at)
    this.pair(key)
  }

  private pair (key: string): void {
    const started = this.starts.get(key)
    const ended = this.ends.get(key)
    if (started === undefined || ended === undefined) return
    this.starts.delete(key)
    this.onPair(ended, ended - started)
  }
}
