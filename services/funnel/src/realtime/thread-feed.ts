import { DeliverPolicy, jetstream, jetstreamManager, type JetStreamClient, type JsMsg } from '@nats-io/jetstream'
import type { NatsConnection } from '@nats-io/transport-node'
import type { FastifyBaseLogger } from 'fastify'
import { THREADS_STREAM, lastSeqOn, onStalled, readRange, subjects } from '@skein/bus'

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Where the thread log starts and ends now. */
export interface LogBounds { firstSeq: number, lastSeq: number }

/**
 * The funnel's view of the thread log (`SKEIN_THREADS`): one ordered consumer follows every thread event as it
 * is stored (the live tail every room is fed from), and short-lived ordered consumers replay a room's events
 * after a seq. The live tail remembers the last seq it delivered and, after any failure, starts again right
 * after it: nothing is skipped, nothing is delivered twice.
 */
export class ThreadFeed {
  private running = false
  private loop: Promise<void> | undefined
  private stopCurrent: (() => void) | undefined
  private readonly js: JetStreamClient
  /** The seq of the last event the live tail delivered (0: none yet). */
  lastSeq = 0

  constructor (private readonly nc: NatsConnection, private readonly log: FastifyBaseLogger) {
    this.js = jetstream(nc)
  }

  /** Follows the log from its current end; `onEvent` runs synchronously for each event, in order. */
  async start (onEvent: (m: JsMsg) => void): Promise<void> {
    this.running = true
    const bounds = await this.bounds().catch(() => null)
    this.lastSeq = bounds?.lastSeq ?? 0
    this.loop = this.follow(onEvent)
    // After NATS comes back (a restart, another node) the tail starts again right away from the last seq it
    // delivered, rather than waiting to notice its consumer is gone.
    void (async () => {
      for await (const s of this.nc.status()) if (s.type === 'reconnect') this.stopCurrent?.()
    })()
  }

  async stop (): Promise<void> {
    this.running = false
    this.stopCurrent?.()
    await this.loop
  }

  private async follow (onEvent: (m: JsMsg) => void): Promise<void> {
    while (this.running) {
      try {
        const consumer = await this.js.consumers.get(THREADS_STREAM, {
          filter_subjects: subjects.allThreadEvents,
          deliver_policy: DeliverPolicy.StartSequence,
          opt_start_seq: this.lastSeq + 1
        })
        const messages = await consumer.consume({ max_messages: 1024, expires: 5_000 })
        const stop = (): void => { void messages.close().catch(() => {}) }
        this.stopCurrent = stop
        if (!this.running) stop()
        // Its server gone (a cluster node lost) while the connection stays up: start again from the last seq.
        onStalled(messages, () => {
          this.log.warn({ lastSeq: this.lastSeq }, 'thread feed: the consumer\'s server stopped answering; following again from the last event')
          stop()
        })
        for await (const m of messages) {
          if (m.seq <= this.lastSeq) continue
          this.lastSeq = m.seq
          try {
            onEvent(m)
          } catch (err) {
            this.log.error({ err, subject: m.subject, seq: m.seq }, 'a thread event could not be delivered')
          }
        }
      } catch (err) {
        if (!this.running) return
        this.log.warn({ err: err instanceof Error ? err.message : err }, 'thread feed interrupted (no thread stream yet, or NATS away); resuming in 500 ms')
        await delay(500)
      }
    }
  }

  async bounds (): Promise<LogBounds> {
    const info = await (await jetstreamManager(this.nc)).streams.info(THREADS_STREAM)
    return { firstSeq: info.state.first_seq, lastSeq: info.state.last_seq }
  }

  /** Whether the log still holds a room's first event (its thread's `created`): then it holds all of them. */
  async keepsStartOf (room: string): Promise<boolean> {
    return await lastSeqOn(await jetstreamManager(this.nc), THREADS_STREAM, [subjects.threadEvent(room, 'created')]) > 0
  }

  /**
   * A room's events with afterSeq < seq ≤ upTo, in order, handed to `onEvent` (awaited, so a slow socket slows
   * the replay instead of piling it up). A `wide` room (main, a private room) shows other threads' lifecycle
   * events too, so its replay reads the whole log; any other room reads only its thread's subjects.
   */
  async replay (room: string, wide: boolean, afterSeq: number, upTo: number, onEvent: (m: JsMsg) => Promise<void> | void): Promise<void> {
    if (afterSeq >= upTo) return
    const jsm = await jetstreamManager(this.nc)
    const last = wide ? (await this.bounds()).lastSeq : await lastSeqOn(jsm, THREADS_STREAM, subjects.threadEventSubjects(room))
    const filter = wide ? subjects.allThreadEvents : subjects.threadEvents(room)
    await readRange(this.js, THREADS_STREAM, filter, afterSeq, Math.min(upTo, last), onEvent)
  }
}
