import { test } from 'tap'
import { Ajv } from 'ajv'
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions'
import { build, sdk } from '../helper.js'

const ajv = new Ajv({ strict: false })

const RECIPE = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 3, maxLength: 40 },
    servings: { type: 'integer', minimum: 1, maximum: 12 },
    vegetarian: { type: 'boolean' },
    difficulty: { type: 'string', enum: ['easy', 'medium', 'hard'] },
    ingredients: {
      type: 'array',
      minItems: 3,
      maxItems: 6,
      items: { type: 'object', properties: { item: { type: 'string' }, grams: { type: ['number', 'null'], minimum: 0 } }, required: ['item', 'grams'], additionalProperties: false }
    },
    source: { anyOf: [{ type: 'string', format: 'uri' }, { type: 'null' }] }
  },
  required: ['name', 'servings', 'vegetarian', 'difficulty', 'ingredients', 'source'],
  additionalProperties: false
}

const TASK_PLAN = {
  type: 'object',
  properties: {
    steps: {
      type: 'array',
      minItems: 1,
      maxItems: 50,
      items: {
        type: 'object',
        properties: {
          title: { type: 'string', maxLength: 60 },
          instructions: { type: 'string', minLength: 1 },
          depends_on: { type: 'array', items: { type: 'integer', minimum: 0 } }
        },
        required: ['title', 'instructions', 'depends_on'],
        additionalProperties: false
      }
    }
  },
  required: ['steps'],
  additionalProperties: false
}

test('structured output: the content is JSON valid against the json_schema, streamed or not', async (t) => {
  const { url } = await build(t)
  const client = sdk(url)
  const params = {
    model: 'skein-sim-1',
    messages: [{ role: 'user' as const, content: 'Give me a recipe for a lentil soup' }],
    response_format: { type: 'json_schema' as const, json_schema: { name: 'recipe', strict: true, schema: RECIPE } }
  }
  const res = await client.chat.completions.create(params)
  t.equal(res.choices[0]?.finish_reason, 'stop')
  const recipe = JSON.parse(res.choices[0]?.message.content ?? '')
  t.ok(ajv.validate(RECIPE, recipe), ajv.errorsText())
  t.match(JSON.stringify(recipe), /lentil|soup|recipe/, 'its strings come from the conversation')

  const stream = await client.chat.completions.create({ ...params, stream: true })
  let streamed = ''
  for await (const chunk of stream) streamed += chunk.choices[0]?.delta.content ?? ''
  t.same(JSON.parse(streamed), recipe, 'the stream carries the same JSON')

  const parsed = await client.chat.completions.parse(params)
  t.same(parsed.choices[0]?.message.parsed, recipe, 'the SDK\'s parse helper reads it')
})

test('json_object answers a JSON object', async (t) => {
  const { url } = await build(t)
  const res = await sdk(url).chat.completions.create({
    model: 'skein-sim-1',
    messages: [{ role: 'user', content: 'Describe a lighthouse as JSON' }],
    response_format: { type: 'json_object' }
  })
  const value = JSON.parse(res.choices[0]?.message.content ?? '')
  t.equal(value.simulated, true)
  t.match(value.answer, /^\[simulated\].*lighthouse/)
})

test('task_plan: the task text is split into real steps with dependencies', async (t) => {
  const { url } = await build(t)
  const client = sdk(url)
  const plan = async (task: string): Promise<Array<{ title: string, instructions: string, depends_on: number[] }>> => {
    const res = await client.chat.completions.create({
      model: 'skein-sim-1',
      messages: [{ role: 'system', content: 'Split the task into steps.' }, { role: 'user', content: task }],
      response_format: { type: 'json_schema', json_schema: { name: 'task_plan', strict: true, schema: TASK_PLAN } }
    })
    const value = JSON.parse(res.choices[0]?.message.content ?? '')
    t.ok(ajv.validate(TASK_PLAN, value), ajv.errorsText())
    return value.steps
  }
  t.same(await plan('1. Research cats\n2. Research dogs\n3. Research birds\n4. Compare the results of the three'), [
    { title: 'Research cats', instructions: 'Research cats', depends_on: [] },
    { title: 'Research dogs', instructions: 'Research dogs', depends_on: [] },
    { title: 'Research birds', instructions: 'Research birds', depends_on: [] },
    { title: 'Compare the results of the three', instructions: 'Compare the results of the three', depends_on: [0, 1, 2] }
  ])
  const single = await plan('Write a limerick about a cat')
  t.equal(single.length, 1)
  t.equal(single[0]?.instructions, 'Write a limerick about a cat')
  const shaped = await client.chat.completions.create({
    model: 'skein-sim-1',
    messages: [{ role: 'user', content: 'Find three hotels, then pick the cheapest' }],
    response_format: { type: 'json_schema', json_schema: { name: 'plan_v2', schema: TASK_PLAN } }
  })
  t.same(JSON.parse(shaped.choices[0]?.message.content ?? '').steps.map((s: { depends_on: number[] }) => s.depends_on), [[], [0]], 'recognised by shape under another name')
})

test('a bad response_format or tool_choice is a 400 in the error format', async (t) => {
  const { app } = await build(t)
  const noSchema = await app.inject({ method: 'POST', url: '/v1/chat/completions', payload: { model: 'skein-sim-1', messages: [{ role: 'user', content: 'hi' }], response_format: { type: 'json_schema' } } })
  t.equal(noSchema.statusCode, 400)
  t.equal(noSchema.json().error.code, 'SIM_BAD_RESPONSE_FORMAT')
  t.match(noSchema.json().error.message, /response_format\.json_schema/)
  const badType = await app.inject({ method: 'POST', url: '/v1/chat/completions', payload: { model: 'skein-sim-1', messages: [{ role: 'user', content: 'hi' }], response_format: { type: 'yaml' } } })
  t.equal(badType.statusCode, 400)
  t.equal(badType.json().error.code, 'SIM_VALIDATION')
  t.match(badType.json().error.message, /response_format\/type/)
  const unknown = await app.inject({
    method: 'POST',
    url: '/v1/chat/completions',
    payload: { model: 'skein-sim-1', messages: [{ role: 'user', content: 'hi' }], tools: [{ type: 'function', function: { name: 'a' } }], tool_choice: { type: 'function', function: { name: 'b' } } }
  })
  t.equal(unknown.statusCode, 400)
  t.same(unknown.json(), { error: { code: 'SIM_UNKNOWN_TOOL', message: "tool_choice names the function 'b', which is not among the offered tools (a)" } })
})

const TOOLS: ChatCompletionTool[] = [
  {
    type: 'function',
    function: {
      name: 'search_memory',
      description: 'Search the user\'s memory',
      parameters: { type: 'object', properties: { query: { type: 'string' }, limit: { type: 'integer', minimum: 1, maximum: 10 } }, required: ['query', 'limit'], additionalProperties: false }
    }
  },
  { type: 'function', function: { name: 'spawn_subtask', parameters: { type: 'object', properties: { task: { type: 'string' } }, required: ['task'] } } }
]

test('tool calls: asked for in the message, answered with finish_reason tool_calls and valid arguments', async (t) => {
  const { url } = await build(t)
  const client = sdk(url)
  const res = await client.chat.completions.create({ model: 'skein-sim-1', messages: [{ role: 'user', content: 'search memory for cats' }], tools: TOOLS })
  const choice = res.choices[0]!
  t.equal(choice.finish_reason, 'tool_calls')
  t.equal(choice.message.content, null)
  t.equal(choice.message.tool_calls?.length, 1)
  const call = choice.message.tool_calls![0]!
  t.equal(call.type, 'function')
  if (call.type !== 'function') return
  t.equal(call.function.name, 'search_memory')
  const args = JSON.parse(call.function.arguments)
  t.equal(args.query, 'cats')
  t.ok(ajv.validate(TOOLS[0]!.type === 'function' ? TOOLS[0]!.function.parameters! : {}, args), ajv.errorsText())

  const none = await client.chat.completions.create({ model: 'skein-sim-1', messages: [{ role: 'user', content: 'search memory for cats' }], tools: TOOLS, tool_choice: 'none' })
  t.equal(none.choices[0]?.finish_reason, 'stop', 'tool_choice none answers in text')
  t.match(none.choices[0]?.message.content, /^\[simulated\]/)

  const forced = await client.chat.completions.create({ model: 'skein-sim-1', messages: [{ role: 'user', content: 'look into the weather' }], tools: TOOLS, tool_choice: { type: 'function', function: { name: 'spawn_subtask' } } })
  const forcedCall = forced.choices[0]?.message.tool_calls?.[0]
  t.equal(forcedCall?.type === 'function' ? forcedCall.function.name : undefined, 'spawn_subtask')
})

test('tool calls stream as OpenAI streams them: id, name, then argument pieces', async (t) => {
  const { url } = await build(t)
  const stream = await sdk(url).chat.completions.create({
    model: 'skein-sim-1',
    stream: true,
    messages: [{ role: 'user', content: 'spawn a subtask to research dogs' }],
    tools: TOOLS
  })
  const deltas = []
  let finish
  for await (const chunk of stream) {
    const c = chunk.choices[0]
    if (c?.delta.tool_calls) deltas.push(...c.delta.tool_calls)
    if (c?.finish_reason) finish = c.finish_reason
  }
  t.equal(finish, 'tool_calls')
  t.ok(deltas.length > 2, `arguments arrive in pieces (${deltas.length} deltas)`)
  t.match(deltas[0], { index: 0, id: /^call_/, type: 'function', function: { name: 'spawn_subtask', arguments: '' } })
  t.ok(deltas.slice(1).every((d) => d.index === 0 && d.id === undefined && d.function?.name === undefined), 'later deltas carry only arguments')
  t.same(JSON.parse(deltas.map((d) => d.function?.arguments ?? '').join('')), { task: 'research dogs' })
})

test('the SDK\'s tool runner completes a round trip: call, tool result, text that uses it', async (t) => {
  const { url } = await build(t)
  const seen: string[] = []
  const runner = sdk(url).chat.completions.runTools({
    model: 'skein-sim-1',
    messages: [{ role: 'user', content: 'search memory for my cats' }],
    tools: [{
      type: 'function',
      function: {
        name: 'search_memory',
        description: 'Search the user\'s memory',
        parameters: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] },
        parse: JSON.parse,
        function: (args: { query: string }) => { seen.push(args.query); return 'The user has two cats, Miso and Tofu.' }
      }
    }]
  })
  const final = await runner.finalContent()
  t.same(seen, ['my cats'], 'the tool ran once with the query from the message')
  t.match(final, /^\[simulated\] I used the tool result: the search_memory tool returned "The user has two cats, Miso and Tofu\."/)
  const messages: ChatCompletionMessageParam[] = runner.messages
  t.same(messages.map((m) => m.role), ['user', 'assistant', 'tool', 'assistant'])
})
