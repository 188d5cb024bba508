import { Compile } from 'typebox/compile'
import type { Static } from 'typebox'
import { ClientEvents, ClientFrame, type ClientEventName } from '@skein/schemas'

/** Keys that could reach an object's prototype in careless code downstream: refused wherever they appear. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype'])
const MAX_DEPTH = 8

const envelope = Compile(ClientFrame)
const validators = Object.fromEntries(Object.entries(ClientEvents).map(([name, schema]) => [name, Compile(schema)])) as {
  [E in ClientEventName]: ReturnType<typeof Compile<(typeof ClientEvents)[E]>>
}

export type ParsedFrame =
  | { ok: true, event: ClientEventName, data: Static<(typeof ClientEvents)[ClientEventName]>, id?: string }
  | { ok: false, code: string, message: string, id?: string }

function forbiddenKey (value: unknown, depth = 0): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  if (depth > MAX_DEPTH) return '(nesting deeper than 8)'
  for (const key of Object.keys(value)) {
    if (FORBIDDEN_KEYS.has(key)) return key
    const found = forbiddenKey((value as Record<string, unknown>)[key], depth + 1)
    if (found) return found
  }
  return undefined
}

/** The first validation problem, naming the field: "data/room must match pattern …". */
function describe (errors: Array<{ instancePath: string, message: string }>, prefix: string): string {
  const first = errors[0]
  if (!first) return `${prefix} is invalid`
  const path = first.instancePath ? `${prefix}${first.instancePath}` : prefix
  return `${path} ${first.message}`
}

/** A frame's request id: a string of 1 to 128 characters, else none. */
function clientId (frame: object): string | undefined {
  const id = (frame as { id?: unknown }).id
  return typeof id === 'string' && id.length > 0 && id.length <= 128 ? id : undefined
}

/**
 * The request id of a frame that will not be handled (over the socket's rate), so that its sender is answered
 * rather than left waiting; undefined for a frame that is no request or cannot be read.
 */
export function requestIdOf (text: string): string | undefined {
  try {
    const frame: unknown = JSON.parse(text)
    return typeof frame === 'object' && frame !== null && !Array.isArray(frame) ? clientId(frame) : undefined
  } catch {
    return undefined
  }
}

/**
 * Reads one client frame: JSON text `{ event, data?, id? }` whose `data` matches the event's schema. Anything
 * else is a refusal that names the problem (the connection stays open): not JSON, not an object, a
 * prototype key, an unknown event, a missing, extra or wrong field.
 */
export function parseFrame (text: string): ParsedFrame {
  let frame: unknown
  try {
    frame = JSON.parse(text)
  } catch {
    return { ok: false, code: 'FUNNEL_BAD_FRAME', message: 'frames are JSON text: { "event": "<name>", "data": { … }, "id"?: "<client id>" }' }
  }
  if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) {
    return { ok: false, code: 'FUNNEL_BAD_FRAME', message: 'a frame is a JSON object: { "event": "<name>", "data": { … }, "id"?: "<client id>" }' }
  }
  const id = clientId(frame)
  const withId = id ? { id } : {}
  const bad = forbiddenKey(frame)
  if (bad) return { ok: false, code: 'FUNNEL_BAD_FRAME', message: `the key "${bad}" is not allowed in a frame`, ...withId }
  if (!envelope.Check(frame)) {
    return { ok: false, code: 'FUNNEL_BAD_FRAME', message: describe(envelope.Errors(frame), 'frame'), ...withId }
  }
  const { event } = frame
  if (!Object.hasOwn(ClientEvents, event)) {
    return { ok: false, code: 'FUNNEL_UNKNOWN_EVENT', message: `unknown event "${event}"; known: ${Object.keys(ClientEvents).join(', ')}`, ...withId }
  }
  const name = event as ClientEventName
  const data = frame.data ?? {}
  const validator = validators[name]
  if (!validator.Check(data)) return { ok: false, code: 'FUNNEL_VALIDATION', message: describe(validator.Errors(data), 'data'), ...withId }
  return { ok: true, event: name, data, ...withId }
}
