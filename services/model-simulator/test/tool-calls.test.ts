import { test } from 'tap'
import { Ajv } from 'ajv'
import type { SimChatRequest } from '../src/chat-request.js'
import { chooseToolCall, matchFunction, nameWords, toolResultReply } from '../src/tool-calls.js'

const SEARCH_MEMORY = {
  name: 'search_memory',
  description: 'Search the user\'s long-term memory',
  parameters: {
    type: 'object',
    properties: { query: { type: 'string' }, limit: { type: 'integer', minimum: 1, maximum: 20 } },
    required: ['query', 'limit'],
    additionalProperties: false
  }
}
const SPAWN_SUBTASK = {
  name: 'spawn_subtask',
  parameters: { type: 'object', properties: { task: { type: 'string' }, priority: { type: 'string', enum: ['low', 'high'] } }, required: ['task', 'priority'] }
}
const SEARCH = { name: 'search', parameters: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] } }
const tools = [SEARCH_MEMORY, SPAWN_SUBTASK, SEARCH].map((f) => ({ type: 'function', function: f }))
const ask = (content: string, extra: Partial<SimChatRequest> = {}): SimChatRequest =>
  ({ model: 'skein-sim-1', messages: [{ role: 'user', content }], tools, ...extra })

test('function names split into words at underscores, dashes and capitals', async (t) => {
  t.same(nameWords('search_memory'), ['search', 'memory'])
  t.same(nameWords('spawnSubtask'), ['spawn', 'subtask'])
  t.same(nameWords('get-weather_now'), ['get', 'weather', 'now'])
})

test('a message with every word of a function name calls it; the text after the words is the request', async (t) => {
  const call = chooseToolCall(ask('Please search memory for cats'))
  t.equal(call?.function.name, 'search_memory', 'the most specific match wins over "search"')
  t.match(call?.id, /^call_[0-9a-f]{16}$/)
  const args = JSON.parse(call!.function.arguments)
  t.equal(args.query, 'cats')
  t.ok(new Ajv().validate(SEARCH_MEMORY.parameters, args), 'arguments are valid against the parameters')

  const spawn = chooseToolCall(ask('spawn a subtask to research dogs'))
  t.equal(spawn?.function.name, 'spawn_subtask')
  t.equal(JSON.parse(spawn!.function.arguments).task, 'research dogs')
  t.ok(new Ajv().validate(SPAWN_SUBTASK.parameters, JSON.parse(spawn!.function.arguments)))

  t.equal(matchFunction(SPAWN_SUBTASK, 'I am spawning subtasks now')?.rest, 'now', 'inflected words count')
  t.equal(chooseToolCall(ask('tell me about cats')), undefined, 'no match, no call')
  t.same(chooseToolCall(ask('search memory for cats')), chooseToolCall(ask('search memory for cats')), 'deterministic')
})

test('tool_choice forces a call, or forbids one', async (t) => {
  const named = chooseToolCall(ask('what do you know about cats?', { tool_choice: { type: 'function', function: { name: 'spawn_subtask' } } }))
  t.equal(named?.function.name, 'spawn_subtask')
  t.equal(JSON.parse(named!.function.arguments).task, 'what do you know about cats?', 'the whole message when the words are absent')
  t.equal(chooseToolCall(ask('hello', { tool_choice: 'required' }))?.function.name, 'search_memory', 'required with no match: the first tool')
  t.equal(chooseToolCall(ask('spawn a subtask to research dogs', { tool_choice: 'required' }))?.function.name, 'spawn_subtask')
  t.equal(chooseToolCall(ask('search memory for cats', { tool_choice: 'none' })), undefined)
  t.throws(() => chooseToolCall(ask('hi', { tool_choice: { type: 'function', function: { name: 'nope' } } })), { code: 'SIM_UNKNOWN_TOOL', statusCode: 400, message: /'nope', which is not among the offered tools \(search_memory, spawn_subtask, search\)/ })
  t.equal(chooseToolCall({ model: 'm', messages: [{ role: 'user', content: 'search memory' }] }), undefined, 'no tools, no call')
})

test('after a tool result the model answers in text, quoting what the tool returned', async (t) => {
  const messages: SimChatRequest['messages'] = [
    { role: 'user', content: 'search memory for cats' },
    { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'search_memory', arguments: '{"query":"cats"}' } }] },
    { role: 'tool', tool_call_id: 'call_1', content: 'The user has two cats named Miso and Tofu.' }
  ]
  t.equal(chooseToolCall({ model: 'm', messages, tools }), undefined, 'auto does not call again')
  const reply = toolResultReply(messages)
  t.match(reply, /^\[simulated\] I used the tool result: the search_memory tool returned "The user has two cats named Miso and Tofu\."/)
  t.match(reply, /cats/)
})

test('functions without parameters get empty arguments', async (t) => {
  const call = chooseToolCall({ model: 'm', messages: [{ role: 'user', content: 'what is the current time' }], tools: [{ type: 'function', function: { name: 'current_time' } }] })
  t.equal(call?.function.arguments, '{}')
})
