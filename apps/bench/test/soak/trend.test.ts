import { test } from 'tap'
import { Trend, median, rssGrowth, slopePerMinute } from '../../src/soak/trend.js'

test('each reading lands in its window: the warm-up before the start, nothing after the end', async (t) => {
  // Warm-up from 0 to 1000 ms, then three windows of 1000 ms.
  const trend = new Trend(0, 1000, 1000, 3)
  t.equal(trend.endMs, 4000)
  trend.latency(500, 80)
  trend.latency(1200, 10)
  trend.latency(1900, 30)
  trend.latency(3999, 7)
  trend.latency(4000, 999)
  trend.latency(-1, 999)
  for (const at of [1100, 1200, 1300, 3100]) trend.delivered(at)
  trend.delivered(2500, 50)
  trend.firstToken(2100, 250)
  trend.ack(2100, 4)
  trend.sample(500, 100_000, 1.0, 3)
  trend.sample(1000, 100_000, 2.0, 5)
  trend.sample(1500, 102_000, 2.25, 4)
  trend.sample(1900, 104_000, 2.5, 6)
  trend.sample(3500, 110_000, 3.0, 2)
  const [warm, w1, w2, w3] = trend.stats()
  t.match(warm, { index: -1, fromS: -1, toS: 0, latency: { count: 1, p50: 80 } })
  t.match(w1, { index: 0, fromS: 0, toS: 1, latency: { count: 2, p50: 10, max: 30 }, deliveriesPerS: 3, rssKib: { median: 102_000, max: 104_000, samples: 3 }, load: 6 })
  t.equal(w1!.funnelCpu, ((2.5 - 2.0) / 0.9) * 100, 'CPU between the window\'s first and last reading')
  t.match(w2, { index: 1, deliveriesPerS: 50, firstToken: { count: 1, p50: 250 }, ack: { count: 1, p50: 4 }, rssKib: { samples: 0 } })
  t.ok(Number.isNaN(w2!.rssKib.median), 'a window without readings has no RSS')
  t.ok(Number.isNaN(w2!.funnelCpu))
  t.match(w3, { index: 2, latency: { count: 1, p50: 7 }, deliveriesPerS: 1, rssKib: { median: 110_000 } })
  t.same(trend.rssPoints, [[0, 100_000], [500, 102_000], [900, 104_000], [2500, 110_000]], 'RSS points of the measured span only, from its start')
})

test('the median of an even count is the mean of the middle two', async (t) => {
  t.equal(median([5, 1, 3]), 3)
  t.equal(median([4, 1, 3, 2]), 2.5)
  t.ok(Number.isNaN(median([])))
})

test('the slope is per minute, and flat or unknown when it should be', async (t) => {
  const growing = Array.from({ length: 11 }, (_v, i): [number, number] => [i * 6_000, 1000 + i * 10])
  t.equal(Math.round(slopePerMinute(growing)), 100, '10 KiB every 6 s is 100 KiB a minute')
  t.equal(slopePerMinute([[0, 5], [60_000, 5], [120_000, 5]]), 0)
  t.ok(Number.isNaN(slopePerMinute([[0, 5]])))
  t.ok(Number.isNaN(slopePerMinute([[10, 5], [10, 6]])))
})

test('memory passes up to the limit, fails above it, and is not judged without readings', async (t) => {
  t.same(rssGrowth(100_000, 120_000, 1.2), { ratio: 1.2, pass: true })
  t.same(rssGrowth(100_000, 120_001, 1.2), { ratio: 1.20001, pass: false })
  t.same(rssGrowth(150_000, 120_000, 1.2), { ratio: 0.8, pass: true })
  t.equal(rssGrowth(NaN, 120_000, 1.2).pass, undefined)
  t.equal(rssGrowth(100_000, NaN, 1.2).pass, undefined)
})
