import t from 'tap'
import { RateWindows } from '../../src/limits/rate-windows.js'

t.test('a key\'s first request opens its window; the count starts again when it ends', async (t) => {
  const w = new RateWindows(60_000)
  t.same(w.hit('user:a', 1_000), { count: 1, resetInMs: 60_000 })
  t.same(w.hit('user:a', 31_000), { count: 2, resetInMs: 30_000 }, 'a fixed window: a later request does not move its end')
  t.same(w.hit('user:b', 31_000), { count: 1, resetInMs: 60_000 }, 'each key has its own')
  t.same(w.hit('user:a', 61_000), { count: 1, resetInMs: 60_000 }, 'a new window once it ended')
})

t.test('ended windows are swept as new keys come, and past maxKeys the oldest go first', async (t) => {
  const w = new RateWindows(1_000, 3)
  for (let i = 0; i < 3; i++) w.hit(`address:${i}`, i)
  t.equal(w.size, 3)
  w.hit('address:3', 3)
  t.equal(w.size, 3, 'bounded')
  t.same(w.hit('address:0', 4), { count: 1, resetInMs: 1_000 }, 'the oldest was forgotten, so it counts again from zero')
  t.same(w.hit('address:3', 5), { count: 2, resetInMs: 998 }, 'the newest was kept')
  w.hit('address:9', 5_000)
  t.equal(w.size, 1, 'every ended window is gone once a new key comes after them')
})
