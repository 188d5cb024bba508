import { test } from 'tap'
import { percentile } from '../../src/report.js'
import { MessageSpans, Samples, SeenSet, readStamp, stampText, summarize } from '../../src/realtime/latency.js'

test('a stamped text reads back its phase, index and send time to the microsecond', async (t) => {
  const text = stampText('m', 1999, 1732312345678.1234)
  t.same(readStamp(text), { tag: 'm', index: 1999, sentAtMs: 1732312345678.123 })
  t.ok(text.length >= 80 && text.length <= 120, 'about the size of a short chat line')
  t.equal(readStamp('hello: there'), undefined)
  t.equal(readStamp('m:x:12:y'), undefined)
  t.equal(readStamp('m:-1:12:y'), undefined)
})

test('summaries are nearest-rank, like report.ts percentile, over the samples given', async (t) => {
  const values = Array.from({ length: 1000 }, (_v, i) => (i * 7919) % 1000 / 10)
  const s = summarize(Float64Array.from(values))
  t.equal(s.count, 1000)
  t.equal(s.p50, percentile(values, 50))
  t.equal(s.p99, percentile(values, 99))
  t.equal(s.max, 99.9)
  const firstTen = summarize(Float64Array.from([5, 1, 4, 2, 3, 10, 9, 8, 7, 6, 1000, 1000]), 10)
  t.same(firstTen, { count: 10, p50: 5, p99: 10, max: 10 }, 'samples past count are ignored')
  t.ok(Number.isNaN(summarize(new Float64Array(0)).p99))
})

test('samples grow past their first buffer and keep every value', async (t) => {
  const s = new Samples()
  for (let i = 1; i <= 5000; i++) s.add(i)
  t.same(s.summary(), { count: 5000, p50: 2500, p99: 4950, max: 5000 })
})

test('per message, the first delivery and the spread to the last; undelivered messages are left out', async (t) => {
  const spans = new MessageSpans(3)
  for (const [index, latency] of [[0, 2], [0, 0.5], [0, 3.5], [2, 7], [2, 6], [5, 1], [-1, 1]] as const) spans.add(index, latency)
  const first = new Samples()
  const spread = new Samples()
  spans.addTo(first, spread)
  t.same(first.summary(), { count: 2, p50: 0.5, p99: 6, max: 6 })
  t.same(spread.summary(), { count: 2, p50: 1, p99: 3, max: 3 }, 'message 0: 3.5 − 0.5; message 2: 7 − 6')
})

test('a seen set counts distinct indices, duplicates, and what another set lacks', async (t) => {
  const acked = new SeenSet()
  const got = new SeenSet()
  for (let i = 0; i < 100_000; i++) acked.add(i)
  for (let i = 0; i < 100_000; i++) if (i % 1000 !== 7) got.add(i)
  t.equal(got.add(8), false, 'a second delivery is a duplicate')
  t.equal(got.duplicates, 1)
  t.equal(acked.size, 100_000)
  t.equal(got.size, 99_900)
  t.equal(acked.missingFrom(got), 100, 'the acked messages this receiver never got')
  t.equal(got.missingFrom(acked), 0)
  t.ok(acked.has(99_999))
  t.notOk(got.has(1007))
  t.notOk(new SeenSet().has(10_000_000))
  t.equal(acked.missingFrom(new SeenSet()), 100_000, 'an empty receiver lacks everything')
})
