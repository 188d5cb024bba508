import { JetStreamApiError, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream'
import { THREADS_STREAM, busHeaders, lastSeqOn, readRange, subjects } from '@skein/bus'
import type { ThreadEvent, ThreadEventPayload, ThreadEventType, ThreadMessage } from '@skein/schemas'

/**
 * A thread's log in the `SKEIN_THREADS` stream: lifecycle events, messages and tokens on
 * `skein.thread.<id>.<event>`. An event's `seq` is its JetStream sequence, strictly increasing within a thread.
 */
export class ThreadLog {
  constructor (private readonly js: JetStreamClient, private readonly jsm: JetStreamManager, private readonly retryMs = 20_000) {}

  /**
   * Publishes one event; `msgID` makes a repeated publish a no-op (JetStream deduplication). An event with a
   * msgID is retried while NATS is away (a restart, a lost leader) for up to `retryMs`: a short outage delays
   * the thread instead of failing it, and the retry cannot store it twice.
   */
  async publish (thread: string, type: ThreadEventType, data: Record<string, unknown>, opts: { msgID?: string, requestId?: string } = {}): Promise<{ seq: number, duplicate: boolean }> {
    const payload = JSON.stringify({ type, thread, ts: new Date().toISOString(), data } satisfies ThreadEventPayload)
    const subject = subjects.threadEvent(thread, type)
    const deadline = Date.now() + this.retryMs
    for (let wait = 100; ; wait = Math.min(wait * 2, 1_000)) {
      try {
        const ack = await this.js.publish(subject, payload, { ...(opts.msgID ? { msgID: opts.msgID } : {}), headers: busHeaders(opts.requestId) })
        return { seq: ack.seq, duplicate: ack.duplicate }
      } catch (err) {
        // The server refused it (not an outage), or it cannot be retried safely, or the outage lasted too long.
        if (err instanceof JetStreamApiError || !opts.msgID || Date.now() + wait > deadline) throw err
        await new Promise((resolve) => setTimeout(resolve, wait))
      }
    }
  }

  /** The thread's events after `afterSeq` (all when 0), optionally of one type, in order. */
  async read (thread: string, afterSeq = 0, type?: ThreadEventType): Promise<ThreadEvent[]> {
    const filter = type ? subjects.threadEvent(thread, type) : subjects.threadEvents(thread)
    const last = await lastSeqOn(this.jsm, THREADS_STREAM, type ? [filter] : subjects.threadEventSubjects(thread))
    const out: ThreadEvent[] = []
    await readRange(this.js, THREADS_STREAM, filter, afterSeq, last, (m) => { out.push({ ...(m.json<ThreadEventPayload>()), seq: m.seq }) })
    return out
  }

  async messages (thread: string, afterSeq = 0): Promise<ThreadMessage[]> {
    const events = await this.read(thread, afterSeq, 'message')
    return events.map((e) => ({ ...(e.data as Omit<ThreadMessage, 'seq'>), seq: e.seq }))
  }

  async lastSeq (): Promise<number> {
    return (await this.jsm.streams.info(THREADS_STREAM)).state.last_seq
  }
}
