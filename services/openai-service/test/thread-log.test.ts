import t from 'tap'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { THREADS_STREAM, ensureStream, subjects } from '@skein/bus'
import { ThreadLog } from '../src/threads/thread-log.js'
import { nats } from './helper.js'

/** Publishes in batches (each in order on one connection), so thousands of events take seconds, not minutes. */
async function publishAll (log: ThreadLog, events: Array<{ thread: string, type: 'message' | 'token', text: string }>): Promise<number[]> {
  const seqs: number[] = []
  for (let i = 0; i < events.length; i += 500) {
    const batch = events.slice(i, i + 500).map(async (e, k) => await log.publish(e.thread, e.type, e.type === 'message'
      ? { id: `m-${i + k}`, thread: e.thread, role: 'user', author: 'alice', text: e.text, ts: new Date().toISOString() }
      : { messageId: 'a-1', index: i + k, token: e.text }))
    for (const r of await Promise.all(batch)) seqs.push(r.seq)
  }
  return seqs
}

// One log for both tests. "quiet": 45 messages, then a long silence while "busy" talks (each message followed by
// ten tokens of another thread's answer), then one more message.
const server = await nats(t)
const nc = await connect({ servers: server.url })
t.teardown(() => nc.close())
const jsm = await jetstreamManager(nc)
await ensureStream(jsm, { name: THREADS_STREAM, subjects: [subjects.allThreadEvents] })
const log = new ThreadLog(jetstream(nc), jsm, 5_000)
const events: Array<{ thread: string, type: 'message' | 'token', text: string }> = []
for (let i = 0; i < 45; i++) events.push({ thread: 'quiet', type: 'message', text: `quiet ${i}` })
for (let i = 0; i < 600; i++) {
  events.push({ thread: 'busy', type: 'message', text: `busy ${i}` })
  for (let k = 0; k < 10; k++) events.push({ thread: 'other', type: 'token', text: 'tok ' })
}
events.push({ thread: 'quiet', type: 'message', text: 'quiet 45' })
const seqs = await publishAll(log, events)
const seqOf = (thread: string, text: string): number => seqs[events.findIndex((e) => e.thread === thread && e.text === text)]!
const all = await log.messages('busy')
const texts = (ms: Array<{ text: string }>): string[] => ms.map((m) => m.text)
const quietTexts = Array.from({ length: 46 }, (_x, i) => `quiet ${i}`)

// An answer in a room that has lived for weeks must not read the room's whole history each time.
t.test('recentMessages reads the end of a long thread: the turns before a message and everything after it', async (t) => {
  t.equal(all.length, 600, 'the busy thread holds 600 messages')
  const at = seqOf('busy', 'busy 500')
  const recent = await log.recentMessages('busy', at, 41)
  const before = recent.filter((m) => m.seq <= at)
  t.ok(before.length >= 41, `the 41 messages up to the one answered are read (${before.length})`)
  t.same(texts(before.slice(-41)), texts(all.slice(460, 501)), 'the turns before it, in order')
  t.same(texts(recent.filter((m) => m.seq > at)), texts(all.slice(501)), 'and every message after it (an answer already given shows there)')
  t.ok(recent.length < all.length, `not the whole thread: ${recent.length} of ${all.length} messages read`)
  t.same(recent.map((m) => m.seq), [...recent.map((m) => m.seq)].sort((a, b) => a - b), 'in order')

  // Its 41 turns lie thousands of seqs back: the read reaches further until it has them.
  t.same(texts(await log.recentMessages('quiet', seqOf('quiet', 'quiet 45'), 41)), quietTexts, 'a quiet thread\'s turns are found far back, all of them')
  t.same(texts(await log.recentMessages('quiet', seqOf('quiet', 'quiet 3'), 41)), quietTexts, 'a thread with fewer messages than asked is read whole')
})

// A room's page shows its newest messages first, and earlier ones a page at a time.
t.test('page: the newest messages of a range, and whether older ones remain', async (t) => {
  const newest = await log.page('busy', { limit: 50 })
  t.same(texts(newest.messages), texts(all.slice(550)), 'the newest 50, in order')
  t.equal(newest.more, true, 'more remain')
  const earlier = await log.page('busy', { before: newest.messages[0]!.seq, limit: 50 })
  t.same(texts(earlier.messages), texts(all.slice(500, 550)), 'the page before it')
  t.equal(earlier.more, true)
  const first = await log.page('busy', { before: all[50]!.seq, limit: 50 })
  t.same(texts(first.messages), texts(all.slice(0, 50)), 'the first page')
  t.equal(first.more, false, 'nothing before it')
  t.same(await log.page('quiet', { limit: 46 }), { messages: (await log.messages('quiet')), more: false }, 'a page the size of the thread: all, no more (its messages lie far apart)')
  const ranged = await log.page('busy', { after: all[100]!.seq, before: all[120]!.seq, limit: 50 })
  t.same(texts(ranged.messages), texts(all.slice(101, 120)), 'between after and before')
  t.equal(ranged.more, false)
  t.same(await log.page('nobody', { limit: 10 }), { messages: [], more: false }, 'a thread without messages')
  t.same(await log.page('busy', { before: Number.MAX_SAFE_INTEGER, limit: 5 }), { messages: all.slice(595), more: true }, 'before far past the end: the newest page, at once')
})
