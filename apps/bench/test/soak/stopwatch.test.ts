import t from 'tap'
import { Stopwatch } from '../../src/soak/stopwatch.js'

t.test('a start and its end are timed once, whichever comes first; a later end of the same key is ignored', async (t) => {
  const timed: Array<[number, number]> = []
  const w = new Stopwatch((at, ms) => timed.push([at, ms]))
  w.start('a', 100)
  w.end('a', 130)
  w.end('b', 250)
  t.same(timed, [[130, 30]], 'nothing for b before it starts')
  w.start('b', 200)
  w.end('a', 400)
  w.end('b', 500)
  t.same(timed, [[130, 30], [250, 50]], 'b timed from its first end; second ends ignored')
})
