import t from 'tap'
import type { ThreadEventPayload } from '@skein/schemas'
import { memoryMessage } from '../../src/memory/memory-index.js'

const message = (data: Record<string, unknown>): ThreadEventPayload => ({ type: 'message', thread: 't-1', ts: '2026-12-05T12:00:00.000Z', data: { id: 'm-1', thread: 't-1', author: 'alice', text: 'Puffins nest in burrows.', ...data } })

t.test('memory keeps finished messages and completed results, nothing cut short or failed', async (t) => {
  t.match(memoryMessage(message({ role: 'user' })), { id: 'm-1', role: 'user', text: 'Puffins nest in burrows.' }, 'what a person said')
  for (const finishReason of [undefined, 'stop', 'length', 'stopped']) {
    t.ok(memoryMessage(message({ role: 'assistant', ...(finishReason ? { finishReason } : {}) })), `an answer that ended (${finishReason ?? 'no reason given'})`)
  }
  for (const finishReason of ['interrupted', 'error']) {
    t.equal(memoryMessage(message({ role: 'assistant', finishReason })), null, `not an answer cut short (${finishReason}): another takes its place`)
  }
  t.ok(memoryMessage(message({ role: 'report', status: 'completed', from: 't-2' })), 'a completed task\'s result')
  t.equal(memoryMessage(message({ role: 'report', status: 'failed', from: 't-2', text: 'Failed: the step timed out' })), null, 'not a failure\'s report')
  t.equal(memoryMessage(message({ role: 'report', from: 't-2', text: 'Failed: the step timed out' })), null, 'nor one logged before reports carried their status')
  t.equal(memoryMessage(message({ role: 'system', text: 'the step timed out' })), null, 'nor a system note')
  t.equal(memoryMessage({ ...message({ role: 'user' }), type: 'token' }), null, 'nor anything but a message')
})
