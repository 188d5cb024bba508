import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream'
import { THREADS_STREAM, busHeaders, lastSeqOn, patiently, publishOnce, readRange, subjects } from '@skein/bus'
import type { ThreadEvent, ThreadEventPayload, ThreadEventType, ThreadMessage, ThreadMessagesPage } from '@skein/schemas'

/**
 * The first window a read of a thread's last messages covers: this many stream seqs per message it needs. Where
 * people talk, a thread's messages lie close together and the first read holds them at no more than this many
 * times the cost; where answers stream between them (a token is an event), a second read reaches further.
 */
const FIRST_SPAN_PER_MESSAGE = 4

/**
 * A thread's log in the `SKEIN_THREADS` stream: lifecycle events, messages and tokens on
 * `skein.thread.<id>.<event>`. An event's `seq` is its JetStream sequence, strictly increasing within a thread.
 */
export class ThreadLog {
  constructor (private readonly js: JetStreamClient, private readonly jsm: JetStreamManager, private readonly retryMs = 20_000) {}

  /**
   * Publishes one event; `msgID` makes a repeated publish a no-op (JetStream deduplication). An event with a
   * msgID is retried while NATS is away (a restart, a lost leader) for up to `retryMs` (publishOnce): a short
   * outage delays the thread instead of failing it, and the retry cannot store it twice. Reads are retried too.
   */
  async publish (thread: string, type: ThreadEventType, data: Record<string, unknown>, opts: { msgID?: string, requestId?: string } = {}): Promise<{ seq: number, duplicate: boolean }> {
    const payload = JSON.stringify({ type, thread, ts: new Date().toISOString(), data } satisfies ThreadEventPayload)
    const subject = subjects.threadEvent(thread, type)
    // Without an id a retry could store the event twice: then one try only.
    const ack = opts.msgID
      ? await publishOnce(this.js, subject, payload, { msgID: opts.msgID, headers: busHeaders(opts.requestId), ms: this.retryMs })
      : await this.js.publish(subject, payload, { headers: busHeaders(opts.requestId) })
    return { seq: ack.seq, duplicate: ack.duplicate }
  }

  /** The thread's events after `afterSeq` (all when 0) and up to `upTo` (the end when absent), optionally of one type, in order. */
  async read (thread: string, afterSeq = 0, type?: ThreadEventType, upTo = Infinity): Promise<ThreadEvent[]> {
    const filter = type ? subjects.threadEvent(thread, type) : subjects.threadEvents(thread)
    return await patiently(async () => {
      const last = await lastSeqOn(this.jsm, THREADS_STREAM, type ? [filter] : subjects.threadEventSubjects(thread))
      const out: ThreadEvent[] = []
      await readRange(this.js, THREADS_STREAM, filter, afterSeq, Math.min(last, upTo), (m) => { out.push({ ...(m.json<ThreadEventPayload>()), seq: m.seq }) })
      return out
    }, this.retryMs)
  }

  async messages (thread: string, afterSeq = 0, upTo = Infinity): Promise<ThreadMessage[]> {
    const events = await this.read(thread, afterSeq, 'message', upTo)
    return events.map((e) => ({ ...(e.data as Omit<ThreadMessage, 'seq'>), seq: e.seq }))
  }

  /**
   * What an answer to the message at `seq` reads: at least the `count` messages up to and including it (all,
   * when the thread has fewer) and every message after it, in order.
   */
  async recentMessages (thread: string, seq: number, count: number): Promise<ThreadMessage[]> {
    return await this.readBack(thread, seq, count, 0)
  }

  /**
   * The newest `limit` messages with after < seq < before (before: the end of the thread), in order, and whether
   * older ones in that range were left out.
   */
  async page (thread: string, opts: { after?: number, before?: number, limit: number }): Promise<ThreadMessagesPage> {
    const after = opts.after ?? 0
    const newest = await patiently(async () => await lastSeqOn(this.jsm, THREADS_STREAM, [subjects.threadEvent(thread, 'message')]), this.retryMs)
    const last = opts.before === undefined ? newest : Math.min(newest, opts.before - 1)
    if (last <= after) return { messages: [], more: false }
    // One more than the page: whether it is there says whether older messages remain.
    const read = await this.readBack(thread, last, opts.limit + 1, after, last)
    return { messages: read.slice(-opts.limit), more: read.length > opts.limit }
  }

  /**
   * The thread's messages after a start that moves back from `seq` until the read holds `count` messages up to
   * `seq`, or reaches `floor`; up to `upTo` (the end when absent). A long-lived thread is not read whole: the
   * first read starts a little before `seq`; a next one (rarely more than one) as far back as the density of
   * messages seen so far says the rest lies.
   */
  private async readBack (thread: string, seq: number, count: number, floor: number, upTo = Infinity): Promise<ThreadMessage[]> {
    // Other threads' events and tokens share the stream's seqs: a thread's messages are spread thin in it.
    let span = count * FIRST_SPAN_PER_MESSAGE
    for (;;) {
      const after = Math.max(floor, seq - span)
      const messages = await this.messages(thread, after, upTo)
      const found = messages.filter((m) => m.seq <= seq).length
      if (after === floor || found >= count) return messages
      // As far back again as the messages found so far say the rest lies, and half as far more.
      span = found === 0 ? span * 8 : Math.ceil(span * (count / found) * 1.5)
    }
  }

  async lastSeq (): Promise<number> {
    return (await this.jsm.streams.info(THREADS_STREAM)).state.last_seq
  }
}
