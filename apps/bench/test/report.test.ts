import { test } from 'tap'
import { percentile } from '../src/report.js'

test('percentiles are nearest-rank', async (t) => {
  const v = Array.from({ length: 100 }, (_x, i) => 100 - i)
  t.equal(percentile(v, 50), 50)
  t.equal(percentile(v, 99), 99)
  t.equal(percentile(v, 100), 100)
  t.equal(percentile([7], 99), 7)
  t.ok(Number.isNaN(percentile([], 50)))
})
