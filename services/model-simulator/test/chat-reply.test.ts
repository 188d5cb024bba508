import { test } from 'tap'
import { MAX_REQUESTED_WORDS, composeReply, requestedWords, tokenize } from '../src/chat-reply.js'

test('a message that asks for a length gets an answer of that many words, fluent and deterministic', async (t) => {
  t.equal(requestedWords('Tell me about tides in 500 words'), 500)
  t.equal(requestedWords('a 300-word summary of lighthouses'), 300)
  t.equal(requestedWords('about 200 tokens on rivers'), 200)
  t.equal(requestedWords('Tell me about tides'), undefined, 'no length asked, none imposed')
  t.equal(requestedWords('99999 words please'), MAX_REQUESTED_WORDS, 'capped')

  const messages = [{ role: 'user' as const, content: 'Tell me about tides and the moon in 500 words' }]
  const reply = composeReply(messages)
  t.equal(tokenize(reply).length, 500, 'exactly the asked length')
  t.match(reply, /^\[simulated\] /)
  t.match(reply, /tides/)
  t.equal(composeReply(messages), reply, 'the same input gives the same answer')
  t.ok(new Set(reply.split(/(?<=\.)\s+/)).size > 10, 'varied sentences, not one repeated')
  t.ok(tokenize(composeReply([{ role: 'user', content: 'Tell me about tides' }])).length < 100, 'a plain question keeps a short answer')
})
