import { DeliverPolicy, JetStreamApiError, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg, type PubAck, type StreamConfig } from '@nats-io/jetstream'
import type { MsgHdrs } from '@nats-io/transport-node'

const STREAM_NAME_IN_USE = 10058

/** Declares a stream idempotently at boot: created when absent, updated when its config changed. */
export async function ensureStream (jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<void> {
  try {
    await jsm.streams.add(config)
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === STREAM_NAME_IN_USE) {
      await jsm.streams.update(config.name, config)
      return
    }
    throw err
  }
}

/** The seq of the last message stored on any of these (exact) subjects; 0 when there is none. */
export async function lastSeqOn (jsm: JetStreamManager, stream: string, subjects: string[]): Promise<number> {
  const seqs = await Promise.all(subjects.map(async (subject) => {
    try {
      return (await jsm.streams.getMessage(stream, { last_by_subj: subject }))?.seq ?? 0
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === NO_MESSAGE_FOUND) return 0
      throw err
    }
  }))
  return Math.max(0, ...seqs)
}

const NO_MESSAGE_FOUND = 10037
/** A read that the stream sends nothing for this long (while it waits for the stream, not for its reader) stops. */
const READ_IDLE_MS = 5_000

/**
 * What readRange throws when the stream stopped sending before the range's end: its server went away, or the
 * messages still to read were removed meanwhile (purged, aged out). Never a silent hole: the caller reads on
 * after `lastSeq` (a transient failure: see isTransient), or tells its reader what is gone.
 */
export class ReadIncompleteError extends Error {
  override name = 'ReadIncompleteError'
  constructor (readonly lastSeq: number, readonly endSeq: number, idleMs: number) {
    super(`the stream sent nothing for ${idleMs} ms before seq ${endSeq} (read up to ${lastSeq}): its server is away, or those messages were removed meanwhile`)
  }
}

export interface ReadRangeOptions {
  /** How long the stream may send nothing while the read waits for it (default 5 s); the reader's own time does not count. */
  idleMs?: number
}

/**
 * Reads the stream's messages on `filter` with afterSeq < seq ≤ endSeq, in order, through a short-lived
 * ordered consumer; `onMessage` is awaited (a slow reader slows the read, nothing piles up), for as long as it
 * takes. `endSeq` must be the seq of a message on `filter`, or have one after it: the read ends on reaching it or
 * passing it, never by guessing from pending counts (which lag behind for filtered consumers). A stream that
 * sends nothing for `idleMs` before then ends the read with ReadIncompleteError.
 */
export async function readRange (js: JetStreamClient, stream: string, filter: string, afterSeq: number, endSeq: number, onMessage: (m: JsMsg) => Promise<void> | void, opts: ReadRangeOptions = {}): Promise<void> {
  if (endSeq <= afterSeq) return
  const idleMs = opts.idleMs ?? READ_IDLE_MS
  const consumer = await js.consumers.get(stream, { filter_subjects: filter, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: afterSeq + 1 })
  let last = afterSeq
  try {
    const messages = await consumer.consume({ max_messages: 256 })
    let idle: NodeJS.Timeout | undefined
    // Armed only while the read waits for the stream: a reader that takes its time (a socket draining, a batch
    // being embedded) must not be taken for a stream that went quiet.
    const arm = (): void => {
      idle = setTimeout(() => { void messages.close() }, idleMs)
    }
    arm()
    try {
      for await (const m of messages) {
        clearTimeout(idle)
        if (m.seq > endSeq) {
          last = endSeq
          break
        }
        await onMessage(m)
        last = m.seq
        if (m.seq >= endSeq) break
        arm()
      }
    } finally {
      clearTimeout(idle)
    }
  } finally {
    await consumer.delete().catch(() => {})
  }
  if (last < endSeq) throw new ReadIncompleteError(last, endSeq, idleMs)
}

const JETSTREAM_TEMPORARILY_UNAVAILABLE = 10008
/** A clustered stream's leader still storing an earlier publish of the same msgID: it will answer soon. */
const JETSTREAM_DUPLICATE_IN_PROCESS = 10158

/**
 * Calls `onStall` once when the server behind a consumer stops sending its heartbeats (`missed` in a row).
 * An ordered consumer that lived on a cluster node which went away is not made again by the client while the
 * client's own connection stays up: its messages just stop. The caller closes it and starts again from the
 * last seq it got.
 */
export function onStalled (messages: ConsumerMessages, onStall: () => void, missed = 2): void {
  void (async () => {
    for await (const s of messages.status()) {
      if (s.type === 'heartbeats_missed' && s.count >= missed) {
        onStall()
        return
      }
    }
  })().catch(() => {})
}

/**
 * NATS failures that a moment mends: a request that timed out or found no responder yet (a restart, a node
 * lost), a leader being elected, JetStream catching up. Not: a refusal of the request itself.
 */
export function isTransient (err: unknown): boolean {
  if (err instanceof JetStreamApiError) return err.code === JETSTREAM_TEMPORARILY_UNAVAILABLE || err.status === 503
  if (!(err instanceof Error)) return false
  return ['TimeoutError', 'ReadIncompleteError', 'NoResponders', 'JetStreamNotEnabled', 'RequestError', 'JetStreamStatusError', 'ConnectionError'].includes(err.name) ||
    (err.cause instanceof Error && isTransient(err.cause))
}

/**
 * A request nothing received: no server had a responder for it (JetStream restarting, a stream's leader being
 * elected). Unlike a timeout, it is certain not to have been applied, so even a write that must not happen
 * twice may be made again.
 */
export function neverReached (err: unknown): boolean {
  if (!(err instanceof Error)) return false
  return err.name === 'NoResponders' || neverReached(err.cause)
}

/**
 * A publish refused because an earlier one with the same msgID is still being stored (a clustered stream):
 * that one will land, and the same publish made again is then answered with its seq.
 */
export function duplicateInProcess (err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === JETSTREAM_DUPLICATE_IN_PROCESS
}

/**
 * Whether a failed publish may have been stored all the same: it timed out or its connection went, with
 * no answer. Not when nothing received it (neverReached) or the server answered with a refusal, except the
 * refusal that says an earlier copy is still being stored.
 */
export function mayHaveLanded (err: unknown): boolean {
  if (neverReached(err)) return false
  const answer = err instanceof JetStreamApiError ? err : err instanceof Error && err.cause instanceof JetStreamApiError ? err.cause : undefined
  return answer === undefined || duplicateInProcess(answer)
}

/**
 * Runs `fn` again while it fails in a way `retryable` allows (transiently, by default: see isTransient),
 * backing off, for up to `ms`; then throws.
 */
export async function patiently<V> (fn: () => Promise<V>, ms: number, retryable: (err: unknown) => boolean = isTransient): Promise<V> {
  const deadline = Date.now() + ms
  for (let wait = 100; ; wait = Math.min(wait * 2, 1_000)) {
    try {
      return await fn()
    } catch (err) {
      if (!retryable(err) || Date.now() + wait > deadline) throw err
      await new Promise((resolve) => setTimeout(resolve, wait))
    }
  }
}

/** A copy of a publish answered with seq 0 (servers before 2.10.21 do, while a clustered leader still stores the first). */
class StillStoring extends Error {
  override name = 'StillStoring'
  constructor () {
    super('an earlier copy of this publish is still being stored')
  }
}

/** What publishOnce throws when no attempt was confirmed: the last error is its cause. */
export class PublishFailedError extends Error {
  override name = 'PublishFailedError'
  /** An attempt timed out or lost its connection, so the event may be in the stream all the same. */
  readonly mayHaveLanded: boolean

  constructor (mayHaveLanded: boolean, cause: unknown) {
    super(`NATS did not confirm the publish: ${cause instanceof Error ? cause.message : String(cause)}`, { cause })
    this.mayHaveLanded = mayHaveLanded
  }
}

/** The least time a publish attempt is given, however little `ms` allows in all: a slow disk or cluster is not a failure. */
const PUBLISH_ATTEMPT_MIN_MS = 2_000

/**
 * Publishes an event under `msgID` so that it is stored once, whatever becomes of the answers: made again while
 * it fails transiently, an attempt starting only within `ms` and given a third of `ms` (at least
 * PUBLISH_ATTEMPT_MIN_MS, so the last one may end up to that much after `ms`).
 * JetStream answers a copy within the stream's duplicate window with the first one's seq; a copy a clustered
 * leader is still storing (10158, or seq 0) is asked again. Throws PublishFailedError when none was confirmed.
 * Once `signal` is aborted (the caller learnt the outcome another way) no further attempt is made.
 */
export async function publishOnce (js: JetStreamClient, subject: string, payload: string, opts: { msgID: string, headers?: MsgHdrs, ms: number, signal?: AbortSignal }): Promise<PubAck> {
  const deadline = Date.now() + opts.ms
  let landed = false
  const attempt = async (): Promise<PubAck> => {
    const timeout = Math.max(PUBLISH_ATTEMPT_MIN_MS, Math.min(opts.ms / 3, deadline - Date.now()))
    try {
      const ack = await js.publish(subject, payload, { msgID: opts.msgID, ...(opts.headers ? { headers: opts.headers } : {}), timeout })
      if (ack.seq === 0) throw new StillStoring()
      return ack
    } catch (err) {
      if (mayHaveLanded(err)) landed = true
      throw err
    }
  }
  try {
    return await patiently(attempt, opts.ms, (err) => opts.signal?.aborted !== true && (isTransient(err) || duplicateInProcess(err) || err instanceof StillStoring))
  } catch (err) {
    throw new PublishFailedError(landed, err)
  }
}
