import { test } from 'tap'
import { RoomCursors, isSequenced } from '../src/index.js'

test('room cursors: a first join starts at the room\'s position, events move it, anything at or below it is a repeat', async (t) => {
  const c = new RoomCursors()
  c.track('garden')
  t.equal(c.afterSeq('garden'), undefined, 'a first join asks for nothing old')
  c.joined('garden', 40)
  t.equal(c.afterSeq('garden'), 40)
  t.ok(c.accept('garden', 41))
  t.ok(c.accept('garden', 45), 'seqs skip (other rooms share the log)')
  t.notOk(c.accept('garden', 45), 'the same seq again is dropped')
  t.notOk(c.accept('garden', 43), 'an older one too')
  c.joined('garden', 99)
  t.equal(c.afterSeq('garden'), 45, 'a rejoin does not move the cursor: the replay does')
  t.ok(c.accept('elsewhere', 3), 'rooms not followed are passed through')
  t.same(c.snapshot(), { garden: 45 })
})

test('room cursors: resumed positions, and an explicit afterSeq never moves a cursor back', async (t) => {
  const c = new RoomCursors({ main: 120, garden: 7, bad: -1 })
  t.same(c.rooms(), ['main', 'garden'])
  c.track('main', 10)
  t.equal(c.afterSeq('main'), 120, 'asking for a replay from 10 does not forget that 120 was delivered')
  t.notOk(c.accept('main', 100))
  c.track('new', 5)
  t.equal(c.afterSeq('new'), 5)
  c.untrack('garden')
  t.notOk(c.has('garden'))
  t.ok(isSequenced('llm_token') && isSequenced('thread_closed') && !isSequenced('presence') && !isSequenced('user_typing'))
})
