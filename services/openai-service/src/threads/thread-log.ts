import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream'
import { THREADS_STREAM, busHeaders, lastSeqOn, readRange, subjects } from '@skein/bus'
import type { ThreadEvent, ThreadEventPayload, ThreadEventType, ThreadMessage } from '@skein/schemas'

/**
 * A thread's log in the `SKEIN_THREADS` stream: lifecycle events, messages and tokens on
 * `skein.thread.<id>.<event>`. An event's `seq` is its JetStream sequence, strictly increasing within a thread.
 */
export class ThreadLog {
  constructor (private readonly js: JetStreamClient, private readonly jsm: JetStreamManager) {}

  /** Publishes one event; `msgID` makes a redelivered publish a no-op (JetStream deduplication). */
  async publish (thread: string, type: ThreadEventType, data: Record<string, unknown>, opts: { msgID?: string, requestId?: string } = {}): Promise<{ seq: number, duplicate: boolean }> {
    const payload: ThreadEventPayload = { type, thread, ts: new Date().toISOString(), data }
    const ack = await this.js.publish(subjects.threadEvent(thread, type), JSON.stringify(payload), {
      ...(opts.msgID ? { msgID: opts.msgID } : {}),
      headers: busHeaders(opts.requestId)
    })
    return { seq: ack.seq, duplicate: ack.duplicate }
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
