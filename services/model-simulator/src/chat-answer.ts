import { composeReply, keyTerms, messageText } from './chat-reply.js'
import type { SimChatRequest } from './chat-request.js'
import { MissingJsonSchema } from './errors.js'
import { sampleJson, type JsonSchema } from './json-schema-sample.js'
import { isTaskPlan, taskOfMessage, taskPlanAnswer } from './task-plan.js'
import { chooseToolCall, toolResultReply, type ToolCall } from './tool-calls.js'

/** What the simulated assistant answers: text (plain or JSON), or a call of one of the offered tools. */
export type ChatAnswer =
  | { kind: 'text', content: string }
  | { kind: 'tool_call', call: ToolCall }

/**
 * Decides the answer to a chat request, in this order: a tool call when one is forced or asked for; JSON
 * when a response_format asks for it (a task plan for the threads engine's `task_plan` schema); a reply that
 * uses the tool results when the last message is one; otherwise the conversational reply.
 */
export function answerChat (body: SimChatRequest): ChatAnswer {
  const call = chooseToolCall(body)
  if (call) return { kind: 'tool_call', call }

  const messages = body.messages
  const last = messages[messages.length - 1]
  const reply = (): string => (last?.role === 'tool' ? toolResultReply(messages) : composeReply(messages))
  const format = body.response_format
  if (!format || format.type === 'text') return { kind: 'text', content: reply() }

  const lastUser = [...messages].reverse().find((m) => m.role === 'user')
  const task = lastUser ? messageText(lastUser) : ''
  const options = { topic: keyTerms(task), seed: messages.map((m) => `${m.role}:${messageText(m)}`).join('\n') }
  if (format.type === 'json_object') return { kind: 'text', content: JSON.stringify({ simulated: true, answer: reply() }) }

  if (!format.json_schema) throw new MissingJsonSchema()
  const { name, schema } = format.json_schema
  const json = isTaskPlan(name, schema as JsonSchema | undefined)
    ? taskPlanAnswer(schema as JsonSchema | undefined, taskOfMessage(task), options)
    : schema ? sampleJson(schema as JsonSchema, options) : { simulated: true, answer: reply() }
  return { kind: 'text', content: JSON.stringify(json) }
}
