import t from 'tap'
import { initialState, logOf, reduce, type AppState } from '../src/app/state.js'

// The funnel answers FUNNEL_UNCONFIRMED when it cannot tell whether a message was stored; if it was, the room
// shows it (a new_message with the clientId of the frame that sent it), and the failed entry must give way to it.
t.test('a message left unconfirmed gives way to the server\'s copy when that shows up, and is shown once', async (t) => {
  let s: AppState = initialState
  s = reduce(s, { type: 'own_message', room: 'r', clientId: 'c1', user: 'alice', text: 'hello' })
  s = reduce(s, { type: 'own_message_failed', room: 'r', clientId: 'c1', error: 'NATS did not confirm the message in time' })
  t.match(logOf(s.rooms.r!).map((e) => e.kind === 'message' && e.message), [{ text: 'hello', failed: /did not confirm/ }], 'shown as failed, with why')

  s = reduce(s, { type: 'new_message', data: { room: 'r', seq: 7, id: 'm-1', user: 'alice', text: 'hello', ts: new Date().toISOString(), clientId: 'c1' } })
  const log = logOf(s.rooms.r!)
  t.equal(log.length, 1, 'one entry, not the failed one beside the stored one')
  t.match(log[0], { kind: 'message', seq: 7, message: { id: 'm-1', text: 'hello', clientId: 'c1' } }, 'the stored message, at its seq')
  t.notOk(log[0]?.kind === 'message' && log[0].message.failed, 'no longer marked failed')
})
