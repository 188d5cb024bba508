import type { ChatMessage } from '@skein/schemas'
import { composeReply, keyTerms, messageText } from './chat-reply.js'
import type { FunctionDefinition, SimChatRequest } from './chat-request.js'
import { UnknownTool } from './errors.js'
import { sampleJson, type JsonSchema } from './json-schema-sample.js'
import { hash32 } from './text.js'

/** One call of a function tool, as OpenAI puts it in `message.tool_calls`. */
export interface ToolCall {
  id: string
  type: 'function'
  function: { name: string, arguments: string }
}

/** String arguments that carry what the user asked for: they get the relevant part of the message. */
const REQUEST_ARGUMENT = /^(?:q|query|queries|search|search_?query|task|text|prompt|input|question|request|goal|topic|content|message|instructions?|description)$/i
const LEADING_FILLER = /^(?:[\s,:;.!?-]+|(?:for|to|about|on|with|that|the|a|an|of|please|me|some|which|in|into|by)\b)+/i

/** The words of a function name: `search_memory` → search, memory; `spawnSubtask` → spawn, subtask. */
export function nameWords (name: string): string[] {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase().split(/[^a-z0-9]+/).filter(Boolean)
}

/** Whether a word of the message is a form of a function word: equal, or with a short inflection (subtasks, searching). */
function sameWord (messageWord: string, functionWord: string): boolean {
  if (messageWord === functionWord) return true
  return functionWord.length >= 3 && messageWord.startsWith(functionWord) && messageWord.length - functionWord.length <= 3
}

interface Match { fn: FunctionDefinition, rest: string, specificity: number }

/**
 * Where every word of a function's name appears in a message, the text after the last of them, trimmed of
 * fillers ("search memory for cats" → "cats"); undefined when a word is missing.
 */
export function matchFunction (fn: FunctionDefinition, text: string): Match | undefined {
  const wanted = nameWords(fn.name)
  if (!wanted.length) return undefined
  const found = new Set<string>()
  let end = -1
  for (const m of text.matchAll(/[\p{L}\p{N}]+(?:'[\p{L}]+)?/gu)) {
    const word = m[0].toLowerCase()
    const hit = wanted.find((w) => !found.has(w) && sameWord(word, w))
    if (hit === undefined) continue
    found.add(hit)
    if (found.size === wanted.length) { end = (m.index ?? 0) + m[0].length; break }
  }
  if (end < 0) return undefined
  const rest = text.slice(end).replace(LEADING_FILLER, '').replace(/[\s.!?]+$/, '').trim()
  return { fn, rest, specificity: wanted.length }
}

/** The function tools among the offered tools. */
export function functionTools (tools: SimChatRequest['tools']): FunctionDefinition[] {
  return (tools ?? []).flatMap((t) => (t.type === 'function' && t.function ? [t.function] : []))
}

const lastUserText = (messages: ChatMessage[]): string => {
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i]!.role === 'user') return messageText(messages[i]!)
  return ''
}

/** The arguments of a call: valid against the function's parameters, the request-like strings filled from the message. */
export function callArguments (fn: FunctionDefinition, request: string, seed: string): string {
  if (!fn.parameters) return '{}'
  const schema = { type: 'object', ...fn.parameters } as JsonSchema
  const args = sampleJson(schema, {
    topic: keyTerms(request),
    seed,
    stringFor: (property) => (REQUEST_ARGUMENT.test(property) ? request : undefined)
  })
  return JSON.stringify(args)
}

/**
 * The tool call the simulated model makes, if any: `tool_choice` naming a function or `required` forces one
 * (a named function must be offered, else the caller gets an error); `none` never calls; otherwise, when the
 * last message is the user's and it contains every word of a function's name, that function is called (the
 * most specific when several match). Returns undefined for a plain answer.
 */
export function chooseToolCall (body: SimChatRequest): ToolCall | undefined {
  const fns = functionTools(body.tools)
  const choice = body.tool_choice ?? 'auto'
  if (!fns.length || choice === 'none') return undefined
  const messages = body.messages
  const last = messages[messages.length - 1]
  const userText = lastUserText(messages)
  const matches = fns.map((fn) => matchFunction(fn, userText)).filter((m): m is Match => m !== undefined)
  const best = matches.reduce<Match | undefined>((a, m) => (a === undefined || m.specificity > a.specificity ? m : a), undefined)

  let fn: FunctionDefinition | undefined
  let request = userText
  if (typeof choice === 'object') {
    fn = fns.find((f) => f.name === choice.function.name)
    if (!fn) throw new UnknownTool(`tool_choice names the function '${choice.function.name}', which is not among the offered tools (${fns.map((f) => f.name).join(', ') || 'none'})`)
    const own = matchFunction(fn, userText)
    if (own?.rest) request = own.rest
  } else if (choice === 'required') {
    fn = best?.fn ?? fns[0]
    if (best?.rest) request = best.rest
  } else if (last?.role === 'user' && best) {
    fn = best.fn
    if (best.rest) request = best.rest
  }
  if (!fn) return undefined
  const seed = messages.map((m) => `${m.role}:${messageText(m)}`).join('\n')
  return {
    id: `call_${[hash32(`${seed}\u0000${fn.name}`), hash32(`${fn.name}\u0000${seed}`)].map((h) => h.toString(16).padStart(8, '0')).join('')}`,
    type: 'function',
    function: { name: fn.name, arguments: callArguments(fn, request, seed) }
  }
}

/** The function name of the call a tool message answers, found in the assistant message that made it. */
function calledName (messages: ChatMessage[], toolMessage: ChatMessage): string | undefined {
  for (const m of messages) {
    if (m.role !== 'assistant' || !Array.isArray(m.tool_calls)) continue
    for (const call of m.tool_calls as Array<{ id?: unknown, function?: { name?: unknown } }>) {
      if (call?.id === toolMessage.tool_call_id && typeof call.function?.name === 'string') return call.function.name
    }
  }
  return toolMessage.name
}

/** The answer after tool results: says which tools' results it used, quotes them briefly, and answers the user. */
export function toolResultReply (messages: ChatMessage[]): string {
  const results: ChatMessage[] = []
  for (let i = messages.length - 1; i >= 0 && messages[i]!.role === 'tool'; i--) results.unshift(messages[i]!)
  const used = results.map((m) => {
    const name = calledName(messages, m) ?? 'the tool'
    const text = messageText(m).replace(/\s+/g, ' ').trim()
    const excerpt = text.length > 160 ? `${text.slice(0, 157)}…` : text
    return `the ${name} tool returned "${excerpt || '(nothing)'}"`
  })
  const answer = composeReply(messages).replace(/^\[simulated\]\s*/, '')
  return `[simulated] I used the tool result: ${used.join('; ')}. ${answer}`
}
