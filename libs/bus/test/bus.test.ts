import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'tap'
import { BaseConfig, buildService, loadConfig } from '@skein/kit'
import { NatsServer, freePort } from '@skein/stack'
import { JetStreamApiError, jetstream, jetstreamManager } from '@nats-io/jetstream'
import { BusUnavailableError, PublishFailedError, busHeaders, busPlugin, connectBus, duplicateInProcess, ensureStream, isTransient, lastSeqOn, mayHaveLanded, neverReached, publishOnce, readRange, ReadIncompleteError } from '../src/index.js'

const dataDir = (): string => mkdtempSync(join(tmpdir(), 'skein-bus-'))

test('the first connection fails with a clear error when NATS never answers', async (t) => {
  const port = await freePort()
  const started = Date.now()
  const err = await connectBus({ servers: `nats://127.0.0.1:${port}`, name: 'test', connectTimeoutMs: 600 }).catch((e: unknown) => e)
  t.ok(err instanceof BusUnavailableError)
  t.match((err as Error).message, new RegExp(`NATS is not reachable at nats://127.0.0.1:${port}: start nats-server`))
  t.ok(Date.now() - started < 5_000, 'gives up after the connect timeout')
})

test('request ids travel in message headers', async (t) => {
  const nats = await NatsServer.start({ dataDir: dataDir() })
  t.teardown(() => nats.stop())
  const nc = await connectBus({ servers: nats.url, name: 'test', connectTimeoutMs: 2_000 })
  t.teardown(() => nc.drain())
  const sub = nc.subscribe('skein.test.headers', { max: 1 })
  nc.publish('skein.test.headers', 'hi', { headers: busHeaders('req-7') })
  for await (const m of sub) {
    t.equal(m.headers?.get('x-request-id'), 'req-7')
    t.equal(m.string(), 'hi')
  }
})

test('the bus plugin reports NATS in /health, follows a restart, and drains on close', async (t) => {
  const nats = await NatsServer.start({ dataDir: dataDir() })
  t.teardown(() => nats.stop())
  const config = loadConfig(BaseConfig, { LOG_LEVEL: 'silent', NATS_URL: nats.url, HEALTH_TIMEOUT_MS: '300' })
  const app = await buildService({ name: 'bus-test', errorPrefix: 'TEST', version: '0', config }, async (f) => {
    await f.register(busPlugin, { service: 'bus-test' })
  })

  const up = await app.inject({ url: '/health' })
  t.equal(up.statusCode, 200)
  t.equal(up.json().dependencies.nats.status, 'up')

  await nats.kill()
  const down = await app.inject({ url: '/health' })
  t.equal(down.statusCode, 503)
  t.equal(down.json().dependencies.nats.status, 'down')

  await nats.restart()
  const deadline = Date.now() + 10_000
  let again = await app.inject({ url: '/health' })
  while (again.statusCode !== 200 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    again = await app.inject({ url: '/health' })
  }
  t.equal(again.statusCode, 200, 'up again after NATS restarts')

  const nc = app.nats
  await app.close()
  t.ok(nc.isClosed(), 'closed (drained) with the service')
})

/** A NATS of the test's own with a stream on `subject.>`, and the clients to use it. */
async function streamOn (t: Tap.Test, name: string, subject: string): Promise<{ js: ReturnType<typeof jetstream>, jsm: Awaited<ReturnType<typeof jetstreamManager>> }> {
  const nats = await NatsServer.start({ dataDir: dataDir() })
  t.teardown(() => nats.stop())
  const nc = await connectBus({ servers: nats.url, name: 'test', connectTimeoutMs: 2_000 })
  t.teardown(() => nc.close())
  const jsm = await jetstreamManager(nc)
  await ensureStream(jsm, { name, subjects: [`${subject}.>`] })
  return { js: jetstream(nc), jsm }
}

test('readRange reads exactly a filtered range of a stream, in order, however the messages interleave', async (t) => {
  const { js, jsm } = await streamOn(t, 'RANGE', 'range')
  // Two threads interleaved: a filtered consumer's pending counts lag here; the read must not stop early.
  const acks = []
  for (let i = 0; i < 1200; i++) acks.push(js.publish(i % 3 === 0 ? 'range.b.token' : 'range.a.token', String(i)))
  await Promise.all(acks)
  await js.publish('range.a.message', 'last of a')
  await js.publish('range.b.message', 'last of b')
  const lastA = await lastSeqOn(jsm, 'RANGE', ['range.a.token', 'range.a.message', 'range.a.status'])
  t.equal(lastA, 1201, 'the last message on any of the subjects (a missing subject counts as none)')
  const read = async (after: number, end: number): Promise<number[]> => {
    const seqs: number[] = []
    await readRange(js, 'RANGE', 'range.a.>', after, end, async (m) => { seqs.push(m.seq); await new Promise((resolve) => setImmediate(resolve)) })
    return seqs
  }
  const all = await read(0, lastA)
  t.equal(all.length, 801, 'every message of a, none of b')
  t.ok(all.every((s, i) => i === 0 || s > all[i - 1]!), 'in order')
  const middle = await read(300, 900)
  t.equal(middle[0], 302, 'starts after afterSeq')
  t.equal(middle[middle.length - 1], 900, 'ends at endSeq')
  const toB = await read(1100, 1198) // seq 1198 is one of b's
  t.equal(toB[toB.length - 1], 1197, 'an endSeq on another subject: stops at the last message before it')
  t.same(await read(1201, 1201), [], 'nothing after the end')
})

test('readRange waits for a slow reader however long it takes, and never ends short in silence', async (t) => {
  const { js, jsm } = await streamOn(t, 'SLOW', 'slow')
  // More than a consumer fetches at once (256), so that some are still on the server when the reader stops.
  const published = []
  for (let i = 0; i < 600; i++) published.push(js.publish('slow.a', String(i)))
  await Promise.all(published)
  // The reader stops for longer than the stream may stay quiet (a socket draining, a batch being embedded).
  const seqs: number[] = []
  await readRange(js, 'SLOW', 'slow.>', 0, 600, async (m) => {
    if (m.seq === 1) await new Promise((resolve) => setTimeout(resolve, 900))
    seqs.push(m.seq)
  }, { idleMs: 300 })
  t.same(seqs, Array.from({ length: 600 }, (_v, i) => i + 1), 'every message up to the end, in order')

  // The messages still to read are removed while the read is under way: it says so instead of ending short.
  await ensureStream(jsm, { name: 'GONE', subjects: ['gone.>'] })
  const acks = []
  for (let i = 0; i < 600; i++) acks.push(js.publish('gone.a', String(i)))
  await Promise.all(acks)
  let read = 0
  const err = await readRange(js, 'GONE', 'gone.>', 0, 600, async (m) => {
    if (m.seq === 1) await jsm.streams.purge('GONE')
    read++
  }, { idleMs: 300 }).catch((e: unknown) => e)
  t.ok(err instanceof ReadIncompleteError, 'a ReadIncompleteError')
  t.ok(read < 600, 'not every message could be read')
  t.equal((err as ReadIncompleteError).lastSeq, read, 'naming the last seq it read')
  t.equal((err as ReadIncompleteError).endSeq, 600)
  t.ok(isTransient(err), 'a reader that retries goes on from there')
})

test('a write nobody received may be made again; one that timed out may have landed, one refused did not', async (t) => {
  const nats = await NatsServer.start({ dataDir: dataDir() })
  t.teardown(() => nats.stop())
  const nc = await connectBus({ servers: nats.url, name: 'test', connectTimeoutMs: 2_000 })
  t.teardown(() => nc.close())
  const js = jetstream(nc)
  // No stream takes this subject: no responder, as while a stream's leader is being elected.
  const unheard = await js.publish('nobody.listens', 'x').catch((err: unknown) => err)
  t.ok(neverReached(unheard), `no responders: never reached (${String(unheard)})`)
  t.ok(isTransient(unheard), 'and transient')
  // Something takes it and never answers: it may have been applied.
  nc.subscribe('swallowed.>', { callback: () => {} })
  const silent = await js.publish('swallowed.write', 'x', { timeout: 300 }).catch((err: unknown) => err)
  t.notOk(neverReached(silent), `a timeout: maybe reached (${String(silent)})`)
  t.ok(isTransient(silent), 'but transient')
  t.notOk(neverReached(new Error('refused')), 'any other error: not known to be unreached')

  t.notOk(mayHaveLanded(unheard), 'no responders: certainly not stored')
  t.ok(mayHaveLanded(silent), 'a timeout: maybe stored')
  await (await jetstreamManager(nc)).streams.add({ name: 'LANDED', subjects: ['landed.>'] })
  const first = await js.publish('landed.one', 'x', { msgID: 'once' })
  const again = await js.publish('landed.one', 'x', { msgID: 'once' })
  t.same([again.seq, again.duplicate], [first.seq, true], 'the same msgID again is answered with the first seq, and not stored twice')
  const refused = await js.publish('landed.one', 'y', { expect: { lastSequence: 99 } }).catch((err: unknown) => err)
  t.ok(refused instanceof JetStreamApiError, `a refusal is an answer (${String(refused)})`)
  t.notOk(mayHaveLanded(refused), 'and certainly not stored')
  const inProcess = new JetStreamApiError({ code: 409, err_code: 10158, description: 'duplicate message id is in process' })
  t.ok(duplicateInProcess(inProcess), 'a copy still being stored (a clustered stream)…')
  t.ok(mayHaveLanded(inProcess), '…will land')
})

test('publishOnce stores an event once, tries again within its time, and says whether a failed one may have landed', async (t) => {
  const nats = await NatsServer.start({ dataDir: dataDir() })
  t.teardown(() => nats.stop())
  const nc = await connectBus({ servers: nats.url, name: 'test', connectTimeoutMs: 2_000 })
  t.teardown(() => nc.close())
  const js = jetstream(nc)
  await (await jetstreamManager(nc)).streams.add({ name: 'ONCE', subjects: ['once.>'] })
  const first = await publishOnce(js, 'once.a', 'x', { msgID: 'a', ms: 2_000 })
  const again = await publishOnce(js, 'once.a', 'x', { msgID: 'a', ms: 2_000 })
  t.same([again.seq, again.duplicate], [first.seq, true], 'the same msgID: the first seq, stored once')

  const unheard = await publishOnce(js, 'nobody.listens', 'x', { msgID: 'b', ms: 600 }).catch((err: unknown) => err)
  t.ok(unheard instanceof PublishFailedError, `nothing takes it: it fails (${String(unheard)})`)
  t.equal((unheard as PublishFailedError).mayHaveLanded, false, 'and certainly was not stored')
  t.ok(isTransient(unheard), 'its cause is still seen as transient')

  let attempts = 0
  nc.subscribe('swallowed.>', { callback: () => { attempts++ } })
  const started = Date.now()
  const silent = await publishOnce(js, 'swallowed.write', 'x', { msgID: 'c', ms: 2_500 }).catch((err: unknown) => err)
  const took = Date.now() - started
  t.equal((silent as PublishFailedError).mayHaveLanded, true, 'unanswered: it may have been stored')
  t.equal(attempts, 2, 'made again once within its time: each attempt is given 2 s at least')
  t.ok(took >= 4_000 && took < 6_000, `and ended with the last attempt's 2 s (${took} ms for 2500)`)

  // The caller learnt the outcome another way (the funnel saw the message in its room's feed) while an attempt waited.
  let heard = 0
  nc.subscribe('hushed.>', { callback: () => { heard++ } })
  const known = new AbortController()
  setTimeout(() => known.abort(), 500)
  const stopped = await publishOnce(js, 'hushed.write', 'x', { msgID: 'd', ms: 10_000, signal: known.signal }).catch((err: unknown) => err)
  t.ok(stopped instanceof PublishFailedError, 'aborted, it ends unconfirmed')
  t.equal(heard, 1, 'after the attempt under way, none is made again')
})
