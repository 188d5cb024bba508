import { test } from 'tap'
import { DeliveryLedger } from '../../src/soak/ledger.js'

const ROOM = 'soak-x-00'

/** A room of three (clients 0, 1, 2), client 0 also watching the main room; checking from now. */
function room (): DeliveryLedger {
  const l = new DeliveryLedger('main')
  for (const [n, user] of ['ann', 'bob', 'cat'].entries()) l.join(n, user, ROOM)
  l.join(0, 'ann', 'main')
  l.beginCheck()
  return l
}

const message = (seq: number, user: string): Record<string, unknown> => ({ room: ROOM, seq, id: `m-${seq}`, user, text: 'hi', ts: '' })
const token = (seq: number, messageId: string, index: number, t: string): Record<string, unknown> => ({ room: ROOM, seq, messageId, index, token: t })
const complete = (seq: number, messageId: string, text: string, finishReason = 'stop'): Record<string, unknown> => ({ room: ROOM, seq, messageId, text, usage: null, finishReason })

/** Delivers an answer of `tokens` as seqs from `seq` on to `clients`. */
function stream (l: DeliveryLedger, clients: number[], seq: number, id: string, tokens: string[]): number {
  for (const [i, t] of tokens.entries()) for (const c of clients) l.receive(c, 'llm_token', token(seq + i, id, i, t))
  for (const c of clients) l.receive(c, 'llm_complete', complete(seq + tokens.length, id, tokens.join('')))
  return seq + tokens.length + 1
}

test('a room where every member got every event once passes, the sender not owed its own message', async (t) => {
  const l = room()
  l.acked(ROOM, 10, 'ann')
  l.receive(1, 'new_message', message(10, 'ann'))
  l.receive(2, 'new_message', message(10, 'ann'))
  l.answerAsked(ROOM, 11, 'reply-m-11', 'bob')
  l.receive(0, 'new_message', message(11, 'bob'))
  l.receive(2, 'new_message', message(11, 'bob'))
  stream(l, [0, 1, 2], 12, 'reply-m-11', ['Hel', 'lo', '!'])
  const c = l.check()
  t.equal(c.lost, false, c.findings.join('; '))
  t.equal(c.events, 6, 'two messages, three tokens, one llm_complete')
  t.equal(c.expectedDeliveries, 2 + 2 + 4 * 3)
  t.equal(c.delivered, c.expectedDeliveries)
  t.same(c.messages, { acked: 2, expectedDeliveries: 4, missing: 0 })
  t.equal(c.answers.requested, 1)
  t.equal(c.answers.complete, 1)
  t.same(c.answers.finishReasons, { stop: 1 })
  t.same(l.unfinished(), { answers: 0, tasks: 0 })
})

test('an acked message a member never got is named by member, room, seq and id', async (t) => {
  const l = room()
  l.acked(ROOM, 10, 'ann')
  l.receive(1, 'new_message', message(10, 'ann'))
  const c = l.check()
  t.equal(c.lost, true)
  t.equal(c.missing, 1)
  t.same(c.messages, { acked: 1, expectedDeliveries: 2, missing: 1 })
  t.match(c.findings[0], /cat never got new_message seq 10 \(m-10 from ann\) in room soak-x-00/)
})

test('an acked message nobody received is owed to everyone but its sender', async (t) => {
  const l = room()
  l.acked(ROOM, 42, 'bob')
  const c = l.check()
  t.equal(c.missing, 2)
  t.match(c.findings.join('\n'), /ann never got new_message seq 42 \(\(acked, never delivered\) from bob\)/)
})

test('an event some members got and another did not is missing there, whatever its kind', async (t) => {
  const l = room()
  l.receive(0, 'llm_token', token(20, 'reply-a', 0, 'x'))
  l.receive(1, 'llm_token', token(20, 'reply-a', 0, 'x'))
  const c = l.check()
  t.equal(c.missing, 1)
  t.match(c.findings.join('\n'), /cat never got llm_token seq 20 \(reply-a#0\)/)
})

test('a seq delivered twice is a duplicate and counted once; one after a later seq is out of order', async (t) => {
  const l = room()
  for (const c of [1, 2]) l.receive(c, 'new_message', message(10, 'ann'))
  l.receive(1, 'new_message', message(10, 'ann'))
  for (const c of [0, 1]) l.receive(c, 'new_message', message(11, 'cat'))
  for (const c of [0, 2]) l.receive(c, 'new_message', message(12, 'bob'))
  l.receive(2, 'new_message', message(14, 'ann'))
  l.receive(2, 'new_message', message(13, 'ann'))
  l.receive(1, 'new_message', message(13, 'ann'))
  l.receive(1, 'new_message', message(14, 'ann'))
  const c = l.check()
  t.equal(c.duplicates, 1)
  t.equal(c.outOfOrder, 1)
  t.equal(c.missing, 0)
  t.equal(c.lost, true)
  t.match(c.findings.join('\n'), /bob got 1 event\(s\) of room soak-x-00 twice/)
  t.match(c.findings.join('\n'), /cat got 1 event\(s\) of room soak-x-00 after a later seq/)
})

test('tokens that do not make the llm_complete text, or leave a hole, fail the answer', async (t) => {
  const l = room()
  l.answerAsked(ROOM, 30, 'reply-b', 'ann')
  for (const c of [1, 2]) l.receive(c, 'new_message', message(30, 'ann'))
  for (const c of [0, 1]) l.receive(c, 'llm_token', token(31, 'reply-b', 0, 'Good '))
  for (const c of [0, 1, 2]) l.receive(c, 'llm_token', token(32, 'reply-b', 1, 'day'))
  for (const c of [0, 1, 2]) l.receive(c, 'llm_complete', complete(33, 'reply-b', 'Good day'))
  const c = l.check()
  t.equal(c.answers.mismatched, 1)
  t.equal(c.answers.complete, 1, 'it did reach every member')
  t.match(c.findings.join('\n'), /reply-b in room soak-x-00: 1 member\(s\) assembled another text, e\.g\. cat: 2 tokens with 1 missing make 3 characters, llm_complete has 8/)
  t.match(c.findings.join('\n'), /cat never got llm_token seq 31 \(reply-b#0\)/)
})

test('an answer cut short at some member, or ended other than by stop, fails and keeps the drain waiting', async (t) => {
  const l = room()
  l.answerAsked(ROOM, 40, 'reply-c', 'bob')
  for (const c of [0, 2]) l.receive(c, 'new_message', message(40, 'bob'))
  for (const c of [0, 1, 2]) l.receive(c, 'llm_token', token(41, 'reply-c', 0, 'a'))
  for (const c of [0, 1]) l.receive(c, 'llm_complete', complete(42, 'reply-c', 'a', 'interrupted'))
  t.same(l.unfinished(), { answers: 1, tasks: 0 })
  const c = l.check()
  t.equal(c.answers.incomplete, 1)
  t.same(c.answers.finishReasons, { interrupted: 1 })
  t.equal(c.lost, true)
  const findings = c.findings.join('\n')
  t.match(findings, /reply-c in room soak-x-00 \(asked by bob\): llm_complete reached 2 of 3 members/)
  t.match(findings, /reply-c in room soak-x-00 ended with finishReason interrupted/)
  t.match(findings, /cat got 1 token\(s\) of reply-c in room soak-x-00 and no llm_complete/)
})

test('a task passes once every main-room watcher saw it completed and closed', async (t) => {
  const l = new DeliveryLedger('main')
  l.join(0, 'ann', 'main')
  l.join(1, 'bob', 'main')
  l.beginCheck()
  const lifecycle = (c: number, seq: number, event: string, status: string): void => l.receive(c, event, { room: 'main', seq, thread: 't-1', status })
  // The lifecycle may come before the ack of create_task.
  for (const c of [0, 1]) lifecycle(c, 5, 'thread_updated', 'running')
  l.taskCreated('t-1', 'ann')
  l.taskCreated('t-2', 'bob')
  for (const c of [0, 1]) lifecycle(c, 6, 'thread_updated', 'completed')
  lifecycle(0, 7, 'thread_closed', 'completed')
  t.same(l.unfinished(), { answers: 0, tasks: 2 })
  lifecycle(1, 7, 'thread_closed', 'completed')
  l.receive(0, 'thread_updated', { room: 'main', seq: 8, thread: 't-2', status: 'failed', error: { code: 'THREADS_STEP_FAILED', message: 'step t-2-s1 failed' } })
  l.receive(1, 'thread_updated', { room: 'main', seq: 8, thread: 't-2', status: 'failed', error: { code: 'THREADS_STEP_FAILED', message: 'step t-2-s1 failed' } })
  t.same(l.unfinished(), { answers: 0, tasks: 1 })
  const c = l.check()
  t.same(c.tasks, { created: 2, completed: 1, notCompleted: 1 })
  t.equal(c.missing, 0)
  t.equal(c.lost, true)
  t.match(c.findings.join('\n'), /task t-2 \(by bob\): completed and closed at 0 of 2 main-room watchers \(last status seen: failed; error THREADS_STEP_FAILED step t-2-s1 failed\)/)
})

test('events seen before the check began, and frames of rooms a client is not in, are not counted', async (t) => {
  const l = new DeliveryLedger('main')
  l.join(0, 'ann', ROOM)
  l.join(1, 'bob', ROOM)
  l.receive(0, 'new_message', message(3, 'cat'))
  l.beginCheck()
  l.receive(1, 'new_message', { ...message(4, 'cat'), room: 'elsewhere' })
  for (const c of [0, 1]) l.receive(c, 'new_message', message(5, 'cat'))
  const c = l.check()
  t.equal(c.events, 1)
  t.equal(c.missing, 0)
  t.equal(c.lost, false)
  t.equal(l.deliveries, 3, 'the frame of a room bob is not in is not a delivery')
})
