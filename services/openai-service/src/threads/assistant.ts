import type { ThreadKind } from '@skein/schemas'

/**
 * One template for every assistant: all assistants are clones whose only difference is their task, and all
 * threads are clones whose only difference is their direction.
 */
export const ASSISTANT_TEMPLATE = `You are the assistant of one thread in Skein, a tree of threads.
Every thread has a task, an assistant (you) and messages, which are shared with the main thread.
Work only on your thread's task. Be concrete and complete; when your task is done, give its result plainly,
because your result is reported to the main thread and may be used by other threads.`

const DIRECTION: Record<ThreadKind, string> = {
  main: 'Your task is to keep the main thread: answer the people in it, and follow the tasks it starts. It is never complete.',
  conversation: 'Your task is this conversation: answer the people in it.',
  task: 'Your task, which you may break into steps, is:',
  step: 'Your task is one step of a larger task:'
}

/** The template extended by the thread's task. */
export function instructionsFor (kind: ThreadKind, task: string): string {
  return kind === 'main' || kind === 'conversation'
    ? `${ASSISTANT_TEMPLATE}\n\n${DIRECTION[kind]}${task ? `\n${task}` : ''}`
    : `${ASSISTANT_TEMPLATE}\n\n${DIRECTION[kind]}\n${task}`
}

export interface PlannedStep {
  title: string
  instructions: string
  depends_on: number[]
}

/** The structured output the assistant plans with: steps, each with a title, instructions and dependencies. */
export const TASK_PLAN_FORMAT = {
  type: 'json_schema',
  json_schema: {
    name: 'task_plan',
    strict: true,
    schema: {
      type: 'object',
      additionalProperties: false,
      required: ['steps'],
      properties: {
        steps: {
          type: 'array',
          minItems: 1,
          description: 'The smallest useful steps, in order. One step when the task needs no breaking down.',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['title', 'instructions', 'depends_on'],
            properties: {
              title: { type: 'string', maxLength: 60 },
              instructions: { type: 'string' },
              depends_on: { type: 'array', items: { type: 'integer', minimum: 0 }, description: 'Indices of earlier steps whose results this step needs' }
            }
          }
        }
      }
    }
  }
} as const

export const PLANNING_PROMPT = 'Break the task into steps. Steps that do not need each other\'s results must not depend on each other, so they can run in parallel.'

/** Reads a plan; anything malformed counts as one step (the task runs as it is). */
export function parsePlan (content: string, task: string): PlannedStep[] {
  try {
    const data = JSON.parse(content) as { steps?: unknown }
    if (!Array.isArray(data.steps) || data.steps.length === 0) throw new Error('no steps')
    return data.steps.map((s: unknown, i: number) => {
      const step = s as Partial<PlannedStep>
      const instructions = typeof step.instructions === 'string' && step.instructions.trim() ? step.instructions.trim() : String(step.title ?? task)
      return {
        title: (typeof step.title === 'string' && step.title.trim() ? step.title.trim() : instructions).slice(0, 60),
        instructions,
        depends_on: Array.isArray(step.depends_on) ? step.depends_on.map(Number).filter((d) => Number.isInteger(d) && d >= 0 && d < i) : []
      }
    })
  } catch {
    return [{ title: task.slice(0, 60), instructions: task, depends_on: [] }]
  }
}

/** Function tools the assistant of a step or task may call (on models that support function calling). */
export const SEARCH_MEMORY_TOOL = {
  type: 'function',
  function: {
    name: 'search_memory',
    description: 'Search Skein\'s memory (earlier messages and task results) for text related to a query.',
    parameters: {
      type: 'object',
      additionalProperties: false,
      required: ['query'],
      properties: { query: { type: 'string', description: 'What to look for' } }
    }
  }
} as const

export const SPAWN_SUBTASK_TOOL = {
  type: 'function',
  function: {
    name: 'spawn_subtask',
    description: 'Start a subtask in a new child thread; it is planned and run like any task, and its result is reported to the main thread.',
    parameters: {
      type: 'object',
      additionalProperties: false,
      required: ['task'],
      properties: { task: { type: 'string', description: 'The subtask, stated completely' } }
    }
  }
} as const

/** Rounds of tool calls one answer may take before it must answer in words. */
export const MAX_TOOL_ROUNDS = 3
