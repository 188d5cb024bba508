import { test } from 'tap'
import { decodeFrame, encodeFrame } from '../src/index.js'

test('frames: encoded as the protocol says, decoded without ever throwing', async (t) => {
  t.same(JSON.parse(encodeFrame('join_room', { room: 'main', afterSeq: 4 }, 'r1')), { event: 'join_room', data: { room: 'main', afterSeq: 4 }, id: 'r1' })
  t.same(JSON.parse(encodeFrame('get_stats', {})), { event: 'get_stats', data: {} })
  t.same(decodeFrame('{"event":"ack","id":"r1","data":{"room":"main"}}'), { event: 'ack', id: 'r1', data: { room: 'main' } })
  t.equal(decodeFrame('not json'), null)
  t.equal(decodeFrame('[1]'), null)
  t.equal(decodeFrame('{"event":"ack"}'), null, 'a frame without data is not one')
})
