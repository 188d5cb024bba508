/** One key's count in its current window. */
interface Window { count: number, resetAt: number }

/** What counting one request said. */
export interface Hit {
  /** Requests in the key's window, this one included. */
  count: number
  /** Milliseconds until the window ends and the count starts again. */
  resetInMs: number
}

/**
 * Requests counted per key (a user, an address) in fixed windows: a key's first request opens its window of
 * `windowMs`, and the count starts again when it ends. Windows all last as long, so the map (in the order they
 * opened) is also in the order they end: ended ones are swept from its front as new keys come, and past
 * `maxKeys` the oldest go first (a key forgotten early counts again from zero: the memory stays bounded under
 * a flood of addresses).
 */
export class RateWindows {
  private readonly windows = new Map<string, Window>()

  constructor (private readonly windowMs: number, private readonly maxKeys = 100_000) {}

  get size (): number {
    return this.windows.size
  }

  /** Counts one request for `key`. */
  hit (key: string, now = Date.now()): Hit {
    let w = this.windows.get(key)
    if (w === undefined || w.resetAt <= now) {
      if (w === undefined) this.sweep(now)
      else this.windows.delete(key) // opened again: to the back, among the windows that end last
      w = { count: 0, resetAt: now + this.windowMs }
      this.windows.set(key, w)
    }
    w.count++
    return { count: w.count, resetInMs: w.resetAt - now }
  }

  private sweep (now: number): void {
    for (const [key, w] of this.windows) {
      if (w.resetAt > now && this.windows.size < this.maxKeys) return
      this.windows.delete(key)
    }
  }
}
