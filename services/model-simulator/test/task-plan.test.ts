import { test } from 'tap'
import { Ajv } from 'ajv'
import { isTaskPlan, planTask, stepTitle, taskOfMessage, taskPlanAnswer } from '../src/task-plan.js'

const steps = (task: string): Array<[string, number[]]> => planTask(task).map((s) => [s.instructions, s.depends_on])

test('a numbered list gives one step per item; the comparing step depends on the others', async (t) => {
  const plan = planTask('1. Research cats\n2. Research dogs\n3. Research birds\n4. Compare the results of the three')
  t.same(plan, [
    { title: 'Research cats', instructions: 'Research cats', depends_on: [] },
    { title: 'Research dogs', instructions: 'Research dogs', depends_on: [] },
    { title: 'Research birds', instructions: 'Research birds', depends_on: [] },
    { title: 'Compare the results of the three', instructions: 'Compare the results of the three', depends_on: [0, 1, 2] }
  ])
})

test('list markers 1), -, * all count; the introduction is dropped and continuations join their item', async (t) => {
  t.same(steps('Please do the following:\n1) Find flights to Lisbon\n2) Book a hotel near the centre\n   with a pool\n3) Summarize the options'), [
    ['Find flights to Lisbon', []],
    ['Book a hotel near the centre with a pool', []],
    ['Summarize the options', [0, 1]]
  ])
  t.same(steps('- gather the logs\n- find the error\n* write a fix'), [['gather the logs', []], ['find the error', []], ['write a fix', []]])
  t.same(steps('Steps:\n- draft the post\n- proofread it\nFinally, publish it.'), [['draft the post', []], ['proofread it', []], ['Finally, publish it.', [0, 1]]])
})

test('without a list, separate lines are steps (a heading line is not)', async (t) => {
  t.same(steps('Plan:\nlist the open bugs\nrank them by impact\nbased on the ranking, pick three'), [
    ['list the open bugs', []],
    ['rank them by impact', []],
    ['based on the ranking, pick three', [0, 1]]
  ])
})

test('one paragraph splits into sentences; "Then" at the start means after everything before', async (t) => {
  t.same(steps('Read the quarterly report. Extract the revenue figures. Then build a chart of them.'), [
    ['Read the quarterly report.', []],
    ['Extract the revenue figures.', []],
    ['Then build a chart of them.', [0, 1]]
  ])
})

test('one sentence splits into clauses on then, and then, ; and and', async (t) => {
  t.same(steps('Search the web for solar panel prices, then write a short summary'), [
    ['Search the web for solar panel prices', []],
    ['write a short summary', [0]]
  ])
  t.same(steps('find a pasta recipe and buy the ingredients and then cook dinner'), [
    ['find a pasta recipe', []],
    ['buy the ingredients', []],
    ['cook dinner', [0, 1]]
  ])
  t.same(steps('translate the memo; proofread the translation'), [['translate the memo', []], ['proofread the translation', []]])
  t.same(steps('Research cats and dogs'), [['Research cats and dogs', []]], '"and" between nouns is not a clause')
  t.same(steps('Summarize the news and the weather'), [['Summarize the news and the weather', []]])
})

test('a planning request is planned from the text after its "Task:" heading, not from its instructions', async (t) => {
  const message = 'Break the task into steps. Steps that do not need each other must not depend on each other.\n\nTask:\nExplain how lighthouses guide ships at night'
  t.equal(taskOfMessage(message), 'Explain how lighthouses guide ships at night')
  t.equal(planTask(taskOfMessage(message)).length, 1, 'a one-line task stays one step')
  t.equal(taskOfMessage('Task: 1. a\n2. b'), '1. a\n2. b')
  t.equal(taskOfMessage('Write a haiku about autumn'), 'Write a haiku about autumn', 'a message without the heading is the task')
})

test('a single-step task yields exactly one step', async (t) => {
  const plan = planTask('Write a haiku about autumn')
  t.equal(plan.length, 1)
  t.same(plan[0], { title: 'Write a haiku about autumn', instructions: 'Write a haiku about autumn', depends_on: [] })
  t.equal(planTask('   ').length, 1, 'even an empty task is one step')
})

test('at most 50 steps', async (t) => {
  const task = Array.from({ length: 80 }, (_, i) => `${i + 1}. Check item ${i + 1}`).join('\n')
  const plan = planTask(task)
  t.equal(plan.length, 50)
  t.equal(plan[49]!.instructions, 'Check item 50')
})

test('titles are short, plain and capitalised', async (t) => {
  t.equal(stepTitle('then **review** the draft.'), 'Review the draft')
  t.equal(stepTitle('Finally, compare them'), 'Compare them')
  const long = stepTitle('Investigate the intermittent failures in the nightly integration pipeline and report what causes them')
  t.ok(long.length <= 60, `${long.length} characters`)
  t.match(long, /^Investigate the intermittent failures in the nightly\b.*…$/)
})

const TASK_PLAN = {
  type: 'object',
  properties: {
    steps: {
      type: 'array',
      minItems: 1,
      maxItems: 20,
      items: {
        type: 'object',
        properties: {
          title: { type: 'string', maxLength: 80 },
          instructions: { type: 'string' },
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

test('recognises the task_plan schema by name or by shape', async (t) => {
  t.ok(isTaskPlan('task_plan', undefined))
  t.ok(isTaskPlan('plan', TASK_PLAN))
  t.notOk(isTaskPlan('plan', { type: 'object', properties: { steps: { type: 'array', items: { type: 'string' } } } }))
  t.notOk(isTaskPlan('weather', { type: 'object', properties: { city: { type: 'string' } } }))
})

test('the plan answer validates against the schema, with other required fields sampled around it', async (t) => {
  const ajv = new Ajv({ strict: false })
  const schema = {
    ...TASK_PLAN,
    properties: {
      ...TASK_PLAN.properties,
      goal: { type: 'string' },
      steps: { ...TASK_PLAN.properties.steps, maxItems: 2, items: { ...TASK_PLAN.properties.steps.items, properties: { ...TASK_PLAN.properties.steps.items.properties, tool: { type: 'string', enum: ['web', 'memory'] } }, required: [...TASK_PLAN.properties.steps.items.required, 'tool'] } }
    },
    required: ['steps', 'goal']
  }
  const answer = taskPlanAnswer(schema, '1. a\n2. b\n3. c') as { steps: unknown[] }
  t.ok(ajv.validate(schema, answer), ajv.errorsText())
  t.equal(answer.steps.length, 2, 'the schema\'s maxItems bounds the steps')
  const strings = taskPlanAnswer({ ...TASK_PLAN, properties: { steps: { type: 'array', items: { type: 'object', properties: { title: { type: 'string' }, instructions: { type: 'string' }, depends_on: { type: 'array', items: { type: 'string' } } } } } } }, 'Write it, then check it') as { steps: Array<{ depends_on: unknown[] }> }
  t.same(strings.steps[1]?.depends_on, ['0'], 'indices as strings when the schema says so')
})
