import type { ModelUsage } from '@skein/schemas'

export interface CallRecord {
  model: string
  backend: string
  promptTokens: number
  completionTokens: number
  firstTokenMs: number | null
  durationMs: number
  outcome: 'ok' | 'error'
  retries: number
  /** The model that was asked for, when the fallback answered instead. */
  fallbackFrom?: string
}

interface Counter extends Omit<ModelUsage, 'avgFirstTokenMs' | 'avgDurationMs'> {
  firstTokenTotal: number
  firstTokenCount: number
  durationTotal: number
}

/** Usage per model in this process: requests, tokens, latency to first token, duration, generations under way. */
export class UsageMeter {
  private readonly counters = new Map<string, Counter>()

  private counter (model: string, backend: string): Counter {
    let c = this.counters.get(model)
    if (!c) {
      c = { model, backend, requests: 0, errors: 0, fallbacks: 0, retries: 0, promptTokens: 0, completionTokens: 0, active: 0, firstTokenTotal: 0, firstTokenCount: 0, durationTotal: 0 }
      this.counters.set(model, c)
    }
    return c
  }

  /** A generation starts; call the returned function once it ends. */
  begin (model: string, backend: string): () => void {
    const c = this.counter(model, backend)
    c.active++
    let ended = false
    return () => {
      if (!ended) c.active--
      ended = true
    }
  }

  record (r: CallRecord): void {
    const c = this.counter(r.model, r.backend)
    c.requests++
    c.retries += r.retries
    if (r.outcome === 'error') c.errors++
    c.promptTokens += r.promptTokens
    c.completionTokens += r.completionTokens
    if (r.firstTokenMs !== null) {
      c.firstTokenTotal += r.firstTokenMs
      c.firstTokenCount++
    }
    c.durationTotal += r.durationMs
    if (r.fallbackFrom) this.counter(r.fallbackFrom, r.backend).fallbacks++
  }

  snapshot (): ModelUsage[] {
    return [...this.counters.values()].map((c) => ({
      model: c.model,
      backend: c.backend,
      requests: c.requests,
      errors: c.errors,
      fallbacks: c.fallbacks,
      retries: c.retries,
      promptTokens: c.promptTokens,
      completionTokens: c.completionTokens,
      avgFirstTokenMs: c.firstTokenCount ? Math.round(c.firstTokenTotal / c.firstTokenCount) : null,
      avgDurationMs: c.requests ? Math.round(c.durationTotal / c.requests) : null,
      active: c.active
    }))
  }
}
