import { deref, sampleJson, type JsonSchema, type SampleOptions } from './json-schema-sample.js'

/** One step of a task plan, as the threads engine's `task_plan` schema describes it. */
export interface PlanStep {
  title: string
  instructions: string
  /** Zero-based indices of earlier steps whose results this step needs. */
  depends_on: number[]
}

export const MAX_PLAN_STEPS = 50
const MAX_TITLE = 60

const LIST_ITEM = /^\s*(?:\d{1,3}[.)]|[-*•+])\s+(\S.*)$/
/** Words that say a step works on what earlier steps produced. */
const REFERS_BACK = /\b(?:using (?:the|these|those|their|all|both|each)\b.{0,20}\b(?:results?|findings|outputs?|answers?)|based on|combin(?:e|es|ing)|summari[sz](?:e|es|ing)|compar(?:e|es|ing)|finally|after that|afterwards|the results of|the above|(?:the )?previous steps?)\b/i
const STARTS_WITH_THEN = /^\s*(?:and\s+)?then\b/i
/** Strong clause separators in a one-line task: ", then", " and then", " then", ";". */
const THEN_SEPARATOR = /\s*,\s*(?:and\s+)?then\s+|\s+and\s+then\s+|\s+then\s+/i
const DETERMINER = /^(?:the|a|an|their|its|his|her|my|our|your|this|that|these|those|some|all|both|each|other)\b/i

interface Part { text: string, follows: boolean }

const wordCount = (t: string): number => t.split(/\s+/).filter(Boolean).length

/** Splits on " and " only between two clauses that each look like an action: "find a recipe and buy the food". */
function splitAnd (text: string): string[] {
  const pieces = text.split(/\s+and\s+/i)
  const out: string[] = []
  for (const piece of pieces) {
    const prev = out[out.length - 1]
    if (prev !== undefined && (wordCount(prev) < 2 || wordCount(piece) < 2 || DETERMINER.test(piece))) out[out.length - 1] = `${prev} and ${piece}`
    else out.push(piece)
  }
  return out
}

function splitList (lines: string[]): Part[] | undefined {
  if (lines.filter((l) => LIST_ITEM.test(l)).length < 2) return undefined
  const parts: Part[] = []
  for (const line of lines) {
    const item = LIST_ITEM.exec(line)
    if (item) { parts.push({ text: item[1]!, follows: false }); continue }
    const text = line.trim()
    const last = parts[parts.length - 1]
    if (!text || !last) continue // the introduction before the list is context, not a step
    if (/^\s/.test(line) || /^[a-z]/.test(text)) last.text += ` ${text}` // a continuation of the item
    else parts.push({ text, follows: false }) // a closing sentence after the list, e.g. "Finally, compare them."
  }
  return parts
}

function splitLines (lines: string[]): Part[] | undefined {
  const texts = lines.map((l) => l.trim()).filter(Boolean)
  const steps = texts.filter((t, i) => !(t.endsWith(':') && i < texts.length - 1))
  return steps.length >= 2 ? steps.map((text) => ({ text, follows: false })) : undefined
}

function splitSentences (text: string): Part[] | undefined {
  const sentences = text.split(/(?<=[.!?])\s+(?=["'(\[]?[A-Z0-9])/).map((s) => s.trim()).filter(Boolean)
  return sentences.length >= 2 ? sentences.map((s) => ({ text: s, follows: false })) : undefined
}

function splitClauses (text: string): Part[] {
  const parts: Part[] = []
  text.split(THEN_SEPARATOR).forEach((chunk, i) => {
    chunk.split(/\s*;\s*/).forEach((clause, j) => {
      splitAnd(clause).forEach((piece, k) => parts.push({ text: piece, follows: i > 0 && j === 0 && k === 0 }))
    })
  })
  return parts
}

const clean = (t: string): string => t.replace(/\s+/g, ' ').replace(/^[\s,;:]+|[\s,;]+$/g, '').trim()

/** A short title from a step's text: fillers and markup dropped, at most 60 characters, cut at a word. */
export function stepTitle (text: string): string {
  let t = text.replace(/[*_`#>]+/g, '').replace(/\s+/g, ' ').trim()
  t = t.replace(/^(?:(?:and\s+)?then|finally|first(?:ly)?|next|after that|afterwards|lastly|second(?:ly)?|third(?:ly)?)\b[\s,:-]*/i, '')
  t = t.replace(/[.!?;:,\s]+$/, '')
  if (!t) t = text.trim() || 'Step'
  t = t.charAt(0).toUpperCase() + t.slice(1)
  if (t.length <= MAX_TITLE) return t
  const cut = t.slice(0, MAX_TITLE - 1)
  const space = cut.lastIndexOf(' ')
  return `${(space > 20 ? cut.slice(0, space) : cut).replace(/[\s,;:.-]+$/, '')}…`
}

/**
 * The task in a planning request: what follows a "Task:" heading when the message has one (the instructions
 * before it are about planning, not steps of the task), otherwise the whole message.
 */
export function taskOfMessage (message: string): string {
  const m = /(?:^|\n)\s*task:[ \t]*(?:\r?\n)?([\s\S]*)$/i.exec(message)
  return m?.[1]?.trim() ? m[1].trim() : message
}

/**
 * Splits a task into steps: a numbered or bulleted list gives one step per item; otherwise separate lines;
 * otherwise sentences; otherwise clauses (", then", " then", " and then", ";", " and "). A step that refers
 * to earlier results ("using the results", "based on", "combine", "summarize", "compare", "finally",
 * "after that", or starting with "then") depends on every earlier step; the others on none.
 */
export function planTask (task: string, maxSteps = MAX_PLAN_STEPS): PlanStep[] {
  const text = task.trim()
  const lines = text.split(/\r?\n/)
  const parts = (splitList(lines) ?? splitLines(lines) ?? splitSentences(text) ?? splitClauses(text))
    .map((p) => ({ ...p, text: clean(p.text) }))
    .filter((p) => p.text)
  if (!parts.length) parts.push({ text: text || 'Complete the task', follows: false })
  return parts.slice(0, Math.max(1, maxSteps)).map((p, i) => ({
    title: stepTitle(p.text),
    instructions: p.text,
    depends_on: i > 0 && (p.follows || STARTS_WITH_THEN.test(p.text) || REFERS_BACK.test(p.text)) ? Array.from({ length: i }, (_, k) => k) : []
  }))
}

const isObject = (v: unknown): v is { [k: string]: unknown } => typeof v === 'object' && v !== null && !Array.isArray(v)

/** The schema of one step, when a schema is a task plan: a top-level `steps` array of {title, instructions, depends_on}. */
function stepSchemaOf (schema: JsonSchema): { steps: { [k: string]: unknown }, item: { [k: string]: unknown } } | undefined {
  const root = deref(schema, schema)
  if (!isObject(root) || !isObject(root.properties)) return undefined
  const steps = deref(schema, root.properties.steps as JsonSchema | undefined)
  if (!isObject(steps)) return undefined
  const item = deref(schema, steps.items as JsonSchema | undefined)
  if (!isObject(item) || !isObject(item.properties)) return undefined
  return { steps, item }
}

/** Whether a structured-output request is the threads engine's task planning: named `task_plan`, or shaped like it. */
export function isTaskPlan (name: string | undefined, schema: JsonSchema | undefined): boolean {
  if (name === 'task_plan') return true
  if (schema === undefined) return false
  const found = stepSchemaOf(schema)
  return found !== undefined && ['title', 'instructions', 'depends_on'].every((k) => k in (found.item.properties as object))
}

/**
 * The task plan answer for a schema: the steps of the task, and whatever else the schema requires sampled
 * around them. Step counts and titles respect the schema's own maxItems and maxLength.
 */
export function taskPlanAnswer (schema: JsonSchema | undefined, task: string, options: SampleOptions = {}): unknown {
  const found = schema === undefined ? undefined : stepSchemaOf(schema)
  const maxSteps = Math.min(MAX_PLAN_STEPS, typeof found?.steps.maxItems === 'number' ? found.steps.maxItems : Infinity)
  const steps = planTask(task, maxSteps)
  if (!found || schema === undefined) return { steps }
  const props = found.item.properties as { [k: string]: unknown }
  const titleMax = deref(schema, props.title as JsonSchema | undefined)
  const dependsOn = deref(schema, props.depends_on as JsonSchema | undefined)
  const indexItem = isObject(dependsOn) ? deref(schema, dependsOn.items as JsonSchema | undefined) : undefined
  const indexAsString = isObject(indexItem) && indexItem.type === 'string'
  const base = sampleJson(schema, options) as { [k: string]: unknown }
  base.steps = steps.map((step, i) => {
    const extra = sampleJson({ ...found.item, $defs: isObject(schema) ? schema.$defs : undefined, definitions: isObject(schema) ? schema.definitions : undefined }, { ...options, seed: `${options.seed ?? ''}/step/${i}` }) as { [k: string]: unknown }
    const title = isObject(titleMax) && typeof titleMax.maxLength === 'number' && step.title.length > titleMax.maxLength
      ? step.title.slice(0, titleMax.maxLength)
      : step.title
    return { ...extra, title, instructions: step.instructions, depends_on: indexAsString ? step.depends_on.map(String) : step.depends_on }
  })
  return base
}
