import { hash32 } from './text.js'

/** A JSON Schema as clients send it: an object of keywords, or `true`/`false`. */
export type JsonSchema = boolean | { [keyword: string]: unknown }
type SchemaObject = { [keyword: string]: unknown }

export interface SampleOptions {
  /** Words the sample's strings are about (the key terms of the conversation). */
  topic?: string[]
  /** Makes the choices (enum members, numbers, booleans) vary with the input yet stay deterministic. */
  seed?: string
  /** A string for a property, when the caller knows better than the generator (e.g. a tool's `query`). */
  stringFor?: (property: string) => string | undefined
}

interface Context {
  root: JsonSchema
  topic: string[]
  seed: string
  stringFor: (property: string) => string | undefined
}

/** Past this depth optional properties and optional array items are left out, so recursive schemas end. */
const SOFT_DEPTH = 6
/** Past this depth the generator gives up on a branch (a schema that requires infinite nesting). */
const HARD_DEPTH = 24
const DEFAULT_ITEMS = 2

const isObject = (v: unknown): v is SchemaObject => typeof v === 'object' && v !== null && !Array.isArray(v)
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined)

/** Follows a local `$ref` (`#/$defs/x`, `#/definitions/x`, `#`) within the root schema. */
export function resolveRef (root: JsonSchema, ref: string): JsonSchema | undefined {
  if (!ref.startsWith('#')) return undefined
  let node: unknown = root
  for (const raw of ref.slice(1).split('/').filter(Boolean)) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~')
    if (!isObject(node) && !Array.isArray(node)) return undefined
    node = (node as Record<string, unknown>)[key]
  }
  return typeof node === 'boolean' || isObject(node) ? node : undefined
}

/** A schema with its `$ref`s followed (a bounded number of hops) and `allOf` merged in. */
export function deref (root: JsonSchema, schema: JsonSchema | undefined): JsonSchema | undefined {
  let s = schema
  for (let hops = 0; hops < 32 && isObject(s) && typeof s.$ref === 'string'; hops++) {
    const { $ref, ...rest } = s
    const target = resolveRef(root, $ref as string)
    s = isObject(target) ? { ...target, ...rest } : target
  }
  if (isObject(s) && Array.isArray(s.allOf)) {
    const { allOf, ...rest } = s
    return (allOf as JsonSchema[]).reduce<SchemaObject>((merged, part) => merge(merged, deref(root, part)), rest)
  }
  return s
}

/** Merges `allOf` members: properties and required lists unite, bounds take the tighter value. */
function merge (a: SchemaObject, b: JsonSchema | undefined): SchemaObject {
  if (!isObject(b)) return a
  const out: SchemaObject = { ...a, ...b }
  if (isObject(a.properties) || isObject(b.properties)) out.properties = { ...(a.properties as SchemaObject), ...(b.properties as SchemaObject) }
  if (Array.isArray(a.required) || Array.isArray(b.required)) out.required = [...new Set([...(a.required as string[] ?? []), ...(b.required as string[] ?? [])])]
  for (const k of ['minimum', 'exclusiveMinimum', 'minLength', 'minItems']) {
    const x = num(a[k]); const y = num(b[k])
    if (x !== undefined && y !== undefined) out[k] = Math.max(x, y)
  }
  for (const k of ['maximum', 'exclusiveMaximum', 'maxLength', 'maxItems']) {
    const x = num(a[k]); const y = num(b[k])
    if (x !== undefined && y !== undefined) out[k] = Math.min(x, y)
  }
  return out
}

/** The type the sample will have: the first non-null of `type`, or one implied by the keywords. */
function typeOf (s: SchemaObject): string | undefined {
  const t = s.type
  if (typeof t === 'string') return t
  if (Array.isArray(t)) return (t.find((x) => x !== 'null') ?? t[0]) as string | undefined
  if (isObject(s.properties) || s.required !== undefined || s.additionalProperties !== undefined) return 'object'
  if (s.items !== undefined || s.prefixItems !== undefined || s.minItems !== undefined) return 'array'
  if (s.minLength !== undefined || s.maxLength !== undefined || s.format !== undefined || s.pattern !== undefined) return 'string'
  if (s.minimum !== undefined || s.maximum !== undefined || s.multipleOf !== undefined) return 'number'
  return undefined
}

/**
 * A deterministic value valid against a JSON Schema: objects with every declared property, strings about the
 * topic within their length bounds and formats, numbers within their bounds, arrays of a few items, the first
 * branch of anyOf/oneOf, const and enum members. `pattern` is not honoured.
 */
export function sampleJson (schema: JsonSchema, options: SampleOptions = {}): unknown {
  const ctx: Context = {
    root: schema,
    topic: options.topic?.length ? options.topic : ['the request'],
    seed: options.seed ?? '',
    stringFor: options.stringFor ?? (() => undefined)
  }
  return sample(ctx, schema, [], 0)
}

function pick (ctx: Context, path: string[], n: number): number {
  return n <= 1 ? 0 : hash32(`${ctx.seed}\u0000${path.join('/')}`) % n
}

function sample (ctx: Context, raw: JsonSchema | undefined, path: string[], depth: number): unknown {
  if (depth > HARD_DEPTH) return null
  const s = deref(ctx.root, raw)
  if (s === undefined || s === true) return defaultString(ctx, path)
  if (s === false) return null
  if ('const' in s) return s.const
  if (Array.isArray(s.enum) && s.enum.length) return s.enum[pick(ctx, path, s.enum.length)]
  const branches = (Array.isArray(s.anyOf) ? s.anyOf : Array.isArray(s.oneOf) ? s.oneOf : undefined) as JsonSchema[] | undefined
  if (branches?.length) {
    const { anyOf: _a, oneOf: _o, ...rest } = s
    return sample(ctx, merge(rest, deref(ctx.root, branches[0])), path, depth)
  }
  switch (typeOf(s)) {
    case 'object': return sampleObject(ctx, s, path, depth)
    case 'array': return sampleArray(ctx, s, path, depth)
    case 'string': return sampleString(ctx, s, path)
    case 'integer': return sampleNumber(ctx, s, path, true)
    case 'number': return sampleNumber(ctx, s, path, false)
    case 'boolean': return pick(ctx, path, 2) === 0
    case 'null': return null
    default: return defaultString(ctx, path)
  }
}

function sampleObject (ctx: Context, s: SchemaObject, path: string[], depth: number): Record<string, unknown> {
  const props = isObject(s.properties) ? s.properties : {}
  const required = new Set(Array.isArray(s.required) ? s.required.filter((k): k is string => typeof k === 'string') : [])
  const out: Record<string, unknown> = {}
  for (const [key, sub] of Object.entries(props)) {
    if (depth >= SOFT_DEPTH && !required.has(key)) continue
    out[key] = sample(ctx, sub as JsonSchema, [...path, key], depth + 1)
  }
  const extra = s.additionalProperties === false ? undefined : (s.additionalProperties as JsonSchema | undefined) ?? true
  for (const key of required) {
    if (!(key in out)) out[key] = sample(ctx, extra ?? true, [...path, key], depth + 1)
  }
  const minProps = num(s.minProperties) ?? 0
  for (let i = 0; Object.keys(out).length < minProps && extra !== undefined && i < minProps; i++) {
    const key = `${ctx.topic[0] ?? 'item'}_${i + 1}`
    if (!(key in out)) out[key] = sample(ctx, extra, [...path, key], depth + 1)
  }
  return out
}

function sampleArray (ctx: Context, s: SchemaObject, path: string[], depth: number): unknown[] {
  const prefix = (Array.isArray(s.prefixItems) ? s.prefixItems : Array.isArray(s.items) ? s.items : []) as JsonSchema[]
  const rest = (Array.isArray(s.items) ? s.additionalItems : s.items) as JsonSchema | undefined
  const min = num(s.minItems) ?? 0
  const max = num(s.maxItems) ?? Infinity
  let count = depth >= SOFT_DEPTH ? min : Math.max(min, Math.min(max, Math.max(DEFAULT_ITEMS, prefix.length)))
  if (rest === false) count = Math.min(count, prefix.length)
  // Unique items drawn from an enum: take the members in turn rather than sampling the same one again.
  const itemSchema = deref(ctx.root, rest)
  const members = s.uniqueItems === true && isObject(itemSchema) && Array.isArray(itemSchema.enum) ? itemSchema.enum : undefined
  if (members) count = Math.max(min, Math.min(count, prefix.length + members.length))
  const first = members ? pick(ctx, path, members.length) : 0
  const out: unknown[] = []
  const seen = new Set<string>()
  for (let i = 0; out.length < count && i < count * 4; i++) {
    const value = members && i >= prefix.length
      ? members[(first + i - prefix.length) % members.length]
      : sample(ctx, i < prefix.length ? prefix[i] : rest ?? true, [...path, String(i)], depth + 1)
    const key = JSON.stringify(value)
    if (s.uniqueItems === true && seen.has(key)) continue
    seen.add(key)
    out.push(value)
  }
  return out
}

const FORMATS: Record<string, (ctx: Context, path: string[]) => string> = {
  'date-time': () => '2026-01-01T12:00:00Z',
  date: () => '2026-01-01',
  time: () => '12:00:00Z',
  duration: () => 'P1D',
  email: () => 'simulated@example.com',
  'idn-email': () => 'simulated@example.com',
  hostname: () => 'example.com',
  'idn-hostname': () => 'example.com',
  ipv4: () => '192.0.2.1',
  ipv6: () => '2001:db8::1',
  uri: (ctx) => `https://example.com/${ctx.topic.join('-')}`,
  'uri-reference': (ctx) => `/${ctx.topic.join('-')}`,
  iri: (ctx) => `https://example.com/${ctx.topic.join('-')}`,
  url: (ctx) => `https://example.com/${ctx.topic.join('-')}`,
  uuid: (ctx, path) => {
    const h = [0, 1, 2, 3].map((i) => hash32(`${ctx.seed}/${path.join('/')}/${i}`).toString(16).padStart(8, '0')).join('')
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`
  },
  regex: () => '^simulated$',
  'json-pointer': () => '/simulated'
}

const capitalize = (t: string): string => t.charAt(0).toUpperCase() + t.slice(1)
const phrase = (words: string[]): string => words.length <= 1 ? (words[0] ?? '') : `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`

/** A string that reads sensibly for its property name: titles are short, descriptions are sentences. */
function defaultString (ctx: Context, path: string[]): string {
  const key = path.filter((p) => !/^\d+$/.test(p)).pop() ?? 'value'
  const topic = phrase(ctx.topic)
  const human = key.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ').toLowerCase()
  const index = path.length && /^\d+$/.test(path[path.length - 1]!) ? ` ${Number(path[path.length - 1]) + 1}` : ''
  if (/(^|_)(id|uuid|key|slug)$/i.test(key)) return `sim-${hash32(`${ctx.seed}/${path.join('/')}`).toString(16)}`
  if (/title|name|heading|label|subject|headline/i.test(key)) return `${capitalize(topic)}${index}`
  if (/summary|description|text|content|answer|body|message|explanation|reason|detail|note|comment|instructions?/i.test(key)) {
    return `[simulated] A ${human}${index} about ${topic}.`
  }
  return `simulated ${human}${index} about ${topic}`
}

function sampleString (ctx: Context, s: SchemaObject, path: string[]): string {
  const key = path.filter((p) => !/^\d+$/.test(p)).pop()
  const format = typeof s.format === 'string' ? FORMATS[s.format] : undefined
  let text = format ? format(ctx, path) : (key !== undefined ? ctx.stringFor(key) : undefined) ?? defaultString(ctx, path)
  const chars = Array.from(text)
  const max = num(s.maxLength)
  const min = num(s.minLength) ?? 0
  if (max !== undefined && chars.length > max) text = chars.slice(0, max).join('').trimEnd().padEnd(Math.min(min, max), '.')
  if (Array.from(text).length < min) {
    const filler = ' simulated'
    while (Array.from(text).length < min) text += filler
    if (max !== undefined) text = Array.from(text).slice(0, Math.max(min, Math.min(max, Array.from(text).length))).join('')
  }
  return text
}

function sampleNumber (ctx: Context, s: SchemaObject, path: string[], integer: boolean): number {
  // Draft 4 states exclusive bounds as booleans beside minimum/maximum; later drafts as numbers.
  const exMin = typeof s.exclusiveMinimum === 'number' ? s.exclusiveMinimum : s.exclusiveMinimum === true ? num(s.minimum) : undefined
  const exMax = typeof s.exclusiveMaximum === 'number' ? s.exclusiveMaximum : s.exclusiveMaximum === true ? num(s.maximum) : undefined
  const step = num(s.multipleOf) ?? (integer ? 1 : undefined)
  let lo = Math.max(num(s.minimum) ?? -Infinity, exMin ?? -Infinity)
  let hi = Math.min(num(s.maximum) ?? Infinity, exMax ?? Infinity)
  const loOpen = exMin !== undefined && exMin >= lo
  const hiOpen = exMax !== undefined && exMax <= hi
  if (lo === -Infinity && hi === Infinity) { lo = 0; hi = 100 } else if (lo === -Infinity) lo = hi - 100
  else if (hi === Infinity) hi = lo + 100
  const h = hash32(`${ctx.seed}\u0000${path.join('/')}`)
  if (step !== undefined) {
    let first = Math.ceil(lo / step)
    let last = Math.floor(hi / step)
    if (loOpen && first * step <= lo) first++
    if (hiOpen && last * step >= hi) last--
    if (last < first) return first * step
    const k = first + (h % (last - first + 1))
    return Number((k * step).toPrecision(12))
  }
  const fraction = (h % 1000) / 1000
  let value = Number((lo + (hi - lo) * fraction).toFixed(2))
  if ((loOpen && value <= lo) || (hiOpen && value >= hi) || value < lo || value > hi) value = (lo + hi) / 2
  return value
}
