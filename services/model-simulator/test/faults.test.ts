import { test } from 'tap'
import { FaultCounter, FaultSyntaxError, faultApplies, parseFault } from '../src/faults.js'

test('parses every key and the hang flag, trimming spaces', async (t) => {
  t.same(parseFault(' latency=250 , status=503,retry-after=2, times=3,model=skein-sim-mini '), {
    source: 'latency=250 , status=503,retry-after=2, times=3,model=skein-sim-mini',
    hang: false,
    latencyMs: 250,
    status: 503,
    retryAfterSeconds: 2,
    times: 3,
    model: 'skein-sim-mini'
  })
  t.same(parseFault('hang'), { source: 'hang', hang: true })
  t.same(parseFault('cut-after=0'), { source: 'cut-after=0', hang: false, cutAfter: 0 })
  t.same(parseFault('HANG,Status=500'), { source: 'HANG,Status=500', hang: true, status: 500 }, 'keys are case-insensitive')
})

test('an empty or blank text is no fault', async (t) => {
  t.equal(parseFault(''), undefined)
  t.equal(parseFault('   '), undefined)
})

test('rejects what does not follow the grammar, saying why', async (t) => {
  const bad: Array<[string, RegExp]> = [
    ['explode', /unknown fault 'explode'/],
    ['status=abc', /'status' needs a whole number/],
    ['status=200', /between 400 and 599/],
    ['status=', /'status' needs a value/],
    ['latency=-5', /whole number/],
    ['latency=1.5', /whole number/],
    ['hang=yes', /flag and takes no value/],
    ['times=0,status=500', /'times' must be between 1/],
    ['status=500,status=502', /given twice/],
    ['retry-after=3', /only applies with 'status'/],
    ['times=2', /no fault to inject/],
    ['model=skein-sim-1', /no fault to inject/]
  ]
  for (const [text, message] of bad) {
    t.throws(() => parseFault(text), { name: 'FaultSyntaxError', message }, text)
  }
  t.ok(new FaultSyntaxError('x') instanceof Error)
})

test('a fault applies to its model only, and cut-after only to streams', async (t) => {
  const forMini = parseFault('status=500,model=skein-sim-mini')!
  t.ok(faultApplies(forMini, { model: 'skein-sim-mini', stream: false }))
  t.notOk(faultApplies(forMini, { model: 'skein-sim-1', stream: false }))
  const cut = parseFault('cut-after=3')!
  t.ok(faultApplies(cut, { model: 'skein-sim-1', stream: true }))
  t.notOk(faultApplies(cut, { model: 'skein-sim-1', stream: false }), 'a whole answer cannot be cut')
  t.ok(faultApplies(parseFault('latency=0')!, { model: undefined, stream: false }))
})

test('the counter lets a times=N fault through N times, per fault string', async (t) => {
  const counter = new FaultCounter()
  const twice = parseFault('status=503,times=2')!
  const same = parseFault('status=503,times=2')!
  const other = parseFault('times=2,status=503')!
  t.same([counter.take(twice), counter.take(same), counter.take(twice), counter.take(twice)], [true, true, false, false], 'same string, one count')
  t.equal(counter.count('status=503,times=2'), 4)
  t.same([counter.take(other), counter.take(other), counter.take(other)], [true, true, false], 'another string counts apart')
  const always = parseFault('status=500')!
  for (let i = 0; i < 5; i++) t.ok(counter.take(always), 'no times: always')
  t.equal(counter.count('status=500'), 0, 'faults without times are not counted')
})

test('the counter forgets the oldest strings past its capacity', async (t) => {
  const counter = new FaultCounter(2)
  const a = parseFault('status=500,times=1')!
  const b = parseFault('status=501,times=1')!
  const c = parseFault('status=502,times=1')!
  t.ok(counter.take(a))
  t.ok(counter.take(b))
  t.ok(counter.take(c))
  t.equal(counter.count(a.source), 0, 'a was forgotten')
  t.equal(counter.count(c.source), 1)
  t.ok(counter.take(a), 'so it applies again')
})
