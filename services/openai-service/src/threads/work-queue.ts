import { AckPolicy, JetStreamApiError, RetentionPolicy, type JetStreamClient, type JetStreamManager, type JsMsg } from '@nats-io/jetstream'
import type { FastifyBaseLogger } from 'fastify'
import { WORK_CONSUMER, WORK_STREAM, busHeaders, ensureStream, publishOnce, subjects } from '@skein/bus'
import type { WorkItem } from '@skein/schemas'

export interface WorkQueueOptions {
  /** Items one instance works on at once. */
  concurrency: number
  /** Without a heartbeat for this long, an item goes to another worker. */
  ackWaitMs: number
  /** Deliveries of one item before it is given up. */
  maxDeliver: number
  replicas: number
  /** How long an enqueue is retried while NATS is briefly away (the message id makes a retry land once). */
  retryMs: number
}

export interface WorkHandler {
  /** `attempt` counts the item's deliveries, from 1. */
  handle: (item: WorkItem, attempt: number) => Promise<void>
  /** The last delivery failed too, or the error was permanent. */
  giveUp: (item: WorkItem, err: unknown) => Promise<void>
  /** Errors no later attempt can mend (a bound): the item is given up at once instead of retried. */
  isPermanent: (err: unknown) => boolean
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** What a run did to its delivery (ack, nak with a delay, term), to do the same to another delivery of the item. */
type Settle = (m: JsMsg) => void
const ack: Settle = (m) => m.ack()
const term: Settle = (m) => m.term()

/**
 * The durable work queue (`SKEIN_WORK`, a JetStream work queue): any instance enqueues, any instance works.
 * Publishing with a message id makes a repeated enqueue a no-op; a worker heartbeats while it works, acks
 * when done, and a crashed worker's item is redelivered to another after `ackWaitMs`.
 */
export class WorkQueue {
  private running = false
  private readonly loops: Array<Promise<void>> = []
  /** The items this instance is working on, by stream sequence: each run ends with what it did to its delivery. */
  private readonly inHand = new Map<number, Promise<Settle>>()
  /** Items this instance acked or gave up lately: a delivery that crossed that ack on the wire is settled alike. */
  private readonly settled = new Map<number, Settle>()

  constructor (
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly opts: WorkQueueOptions,
    private readonly log: FastifyBaseLogger
  ) {}

  /** Declares the stream and the shared consumer, idempotently. */
  async setup (): Promise<void> {
    await ensureStream(this.jsm, { name: WORK_STREAM, subjects: [subjects.allWork], retention: RetentionPolicy.Workqueue, num_replicas: this.opts.replicas, duplicate_window: 3_600_000_000_000 })
    const config = { durable_name: WORK_CONSUMER, ack_policy: AckPolicy.Explicit, ack_wait: this.opts.ackWaitMs * 1_000_000, max_deliver: this.opts.maxDeliver, max_ack_pending: 1000 }
    try {
      await this.jsm.consumers.add(WORK_STREAM, config)
    } catch (err) {
      if (!(err instanceof JetStreamApiError)) throw err
      await this.jsm.consumers.update(WORK_STREAM, WORK_CONSUMER, { ack_wait: config.ack_wait, max_deliver: config.max_deliver })
    }
  }

  async enqueue (item: WorkItem, msgID: string): Promise<void> {
    await publishOnce(this.js, subjects.work(item.kind), JSON.stringify(item), { msgID, headers: busHeaders(item.requestId), ms: this.opts.retryMs })
  }

  /** Starts `concurrency` worker loops; each survives NATS restarts. */
  start (handler: WorkHandler): void {
    this.running = true
    for (let i = 0; i < this.opts.concurrency; i++) this.loops.push(this.loop(handler))
  }

  async stop (): Promise<void> {
    this.running = false
    await Promise.allSettled(this.loops)
  }

  private async loop (handler: WorkHandler): Promise<void> {
    while (this.running) {
      try {
        const consumer = await this.js.consumers.get(WORK_STREAM, WORK_CONSUMER)
        while (this.running) {
          const m = await consumer.next({ expires: 2_000 })
          if (m) await this.process(m, handler)
        }
      } catch (err) {
        if (!this.running) return
        this.log.warn({ err }, 'work queue: consumer failed; retrying in 1 s')
        await delay(1_000)
      }
    }
  }

  /**
   * Runs one delivery. An item redelivered to the instance still running it (its heartbeats were lost while
   * NATS was away, so its ack wait ran out) is not run a second time beside the first: this delivery waits for
   * the run under way, heartbeating, and is then settled as that run settled its own (acked, retried later or
   * given up). Run twice, an answer would stream twice, the first closed as interrupted while it went on. A
   * delivery that crossed the item's ack on the wire is acked again, not run.
   */
  private async process (m: JsMsg, handler: WorkHandler): Promise<void> {
    const heartbeat = setInterval(() => m.working(), Math.max(500, this.opts.ackWaitMs / 3))
    try {
      const done = this.settled.get(m.seq)
      if (done) {
        done(m)
        return
      }
      const underWay = this.inHand.get(m.seq)
      if (underWay) {
        this.log.info({ seq: m.seq, attempt: m.info.deliveryCount }, 'work item redelivered while this instance still runs it; waiting for that run')
        const settle = await underWay
        settle(m)
        return
      }
      const run = this.run(m, handler)
      this.inHand.set(m.seq, run)
      try {
        const settle = await run
        settle(m)
        if (settle === ack || settle === term) this.remember(m.seq, settle)
      } finally {
        this.inHand.delete(m.seq)
      }
    } finally {
      clearInterval(heartbeat)
    }
  }

  /** For two ack waits (a second at least): long enough for any delivery sent before the server had the ack. */
  private remember (seq: number, settle: Settle): void {
    this.settled.set(seq, settle)
    setTimeout(() => this.settled.delete(seq), Math.max(1_000, 2 * this.opts.ackWaitMs)).unref()
  }

  private async run (m: JsMsg, handler: WorkHandler): Promise<Settle> {
    const item = m.json<WorkItem>()
    const attempt = m.info.deliveryCount
    try {
      await handler.handle(item, attempt)
      return ack
    } catch (err) {
      if (attempt >= this.opts.maxDeliver || handler.isPermanent(err)) {
        this.log.error({ err, item, attempt }, attempt >= this.opts.maxDeliver ? 'work item failed on its last attempt; giving up' : 'work item refused for good; giving up')
        await handler.giveUp(item, err).catch((e: unknown) => this.log.error({ err: e, item }, 'could not record the failure'))
        return term
      }
      this.log.warn({ err, item, attempt }, 'work item failed; it will be retried')
      const later = Math.min(10_000, 500 * 2 ** attempt)
      return (d) => d.nak(later)
    }
  }
}
