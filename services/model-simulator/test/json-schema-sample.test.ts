import { test, type Test } from 'tap'
import { Ajv } from 'ajv'
import { Ajv2020 } from 'ajv/dist/2020.js'
import { sampleJson, type JsonSchema } from '../src/json-schema-sample.js'

const draft7 = new Ajv({ strict: false, allErrors: true, validateFormats: false })
const draft2020 = new Ajv2020({ strict: false, allErrors: true, validateFormats: false })

function valid (t: Test, schema: JsonSchema, options = {}, ajv: Ajv = draft7): unknown {
  const value = sampleJson(schema, options)
  const validate = ajv.compile(schema as object)
  t.ok(validate(value), `valid: ${JSON.stringify(value).slice(0, 160)} ${ajv.errorsText(validate.errors)}`)
  return value
}

test('objects get every property, required or not, and validate', async (t) => {
  const value = valid(t, {
    type: 'object',
    properties: {
      title: { type: 'string' },
      summary: { type: 'string' },
      score: { type: 'number', minimum: 0, maximum: 1 },
      count: { type: 'integer', minimum: 3, maximum: 7 },
      done: { type: 'boolean' },
      tags: { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 4 },
      nested: { type: 'object', properties: { a: { type: 'integer' } }, required: ['a'], additionalProperties: false }
    },
    required: ['title', 'score'],
    additionalProperties: false
  }, { topic: ['garden', 'balcony'] }) as Record<string, unknown>
  t.same(Object.keys(value), ['title', 'summary', 'score', 'count', 'done', 'tags', 'nested'])
  t.match(value.title, /garden/i, 'strings are about the topic')
  t.match(value.summary, /^\[simulated\]/, 'and labelled')
})

test('strings respect enum, minLength, maxLength and const', async (t) => {
  const v = valid(t, {
    type: 'object',
    properties: {
      mood: { type: 'string', enum: ['happy', 'sad', 'neutral'] },
      code: { type: 'string', minLength: 40 },
      tiny: { type: 'string', maxLength: 3 },
      exact: { type: 'string', minLength: 5, maxLength: 5 },
      kind: { const: 'report' }
    },
    required: ['mood', 'code', 'tiny', 'exact', 'kind']
  }) as Record<string, string>
  t.ok(['happy', 'sad', 'neutral'].includes(v.mood!))
  t.ok(v.code!.length >= 40)
  t.ok(v.tiny!.length <= 3)
  t.equal(v.exact!.length, 5)
  t.equal(v.kind, 'report')
})

test('numbers and integers stay inside inclusive and exclusive bounds and multiples', async (t) => {
  for (let seed = 0; seed < 25; seed++) {
    valid(t, {
      type: 'object',
      properties: {
        a: { type: 'integer', minimum: -3, maximum: -1 },
        b: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 0.01 },
        c: { type: 'integer', minimum: 10, multipleOf: 5 },
        d: { type: 'number', maximum: -1000 },
        e: { type: 'integer', exclusiveMinimum: 2, exclusiveMaximum: 4 }
      },
      required: ['a', 'b', 'c', 'd', 'e']
    }, { seed: String(seed) })
  }
})

test('arrays honour minItems, maxItems, tuples and uniqueItems', async (t) => {
  const v = valid(t, {
    type: 'object',
    properties: {
      many: { type: 'array', items: { type: 'integer' }, minItems: 5 },
      few: { type: 'array', items: { type: 'string' }, maxItems: 1 },
      none: { type: 'array', items: { type: 'string' }, maxItems: 0 },
      pair: { type: 'array', items: [{ type: 'string' }, { type: 'number' }], additionalItems: false },
      unique: { type: 'array', items: { enum: ['x', 'y', 'z'] }, minItems: 3, uniqueItems: true }
    },
    required: ['many', 'few', 'none', 'pair', 'unique']
  }) as Record<string, unknown[]>
  t.equal(v.many!.length, 5)
  t.equal(v.few!.length, 1)
  t.equal(v.none!.length, 0)
  t.equal(v.pair!.length, 2)
  const tuple = valid(t, { type: 'array', prefixItems: [{ type: 'string' }, { type: 'integer' }], items: false }, {}, draft2020) as unknown[]
  t.equal(tuple.length, 2, 'draft 2020 tuples too')
})

test('anyOf and oneOf take the first branch; nullable and type lists give a value', async (t) => {
  const v = valid(t, {
    type: 'object',
    properties: {
      either: { anyOf: [{ type: 'integer', minimum: 100 }, { type: 'string' }] },
      one: { oneOf: [{ type: 'boolean' }, { type: 'null' }] },
      maybe: { type: 'string', nullable: true },
      listed: { type: ['null', 'string'], minLength: 2 },
      nothing: { type: 'null' }
    },
    required: ['either', 'one', 'maybe', 'listed', 'nothing']
  }) as Record<string, unknown>
  t.type(v.either, 'number')
  t.type(v.one, 'boolean')
  t.type(v.listed, 'string')
  t.equal(v.nothing, null)
})

test('local $refs, $defs, allOf and recursive schemas', async (t) => {
  valid(t, {
    $defs: {
      node: { type: 'object', properties: { name: { type: 'string' }, children: { type: 'array', items: { $ref: '#/$defs/node' } } }, required: ['name', 'children'] }
    },
    type: 'object',
    properties: { root: { $ref: '#/$defs/node' }, both: { allOf: [{ type: 'object', properties: { a: { type: 'string' } }, required: ['a'] }, { properties: { b: { type: 'integer' } }, required: ['b'] }] } },
    required: ['root', 'both']
  })
  valid(t, { definitions: { id: { type: 'string', minLength: 3 } }, type: 'array', items: { $ref: '#/definitions/id' }, minItems: 2 })
})

test('formats give well-formed values', async (t) => {
  const formats = {
    'date-time': /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
    date: /^\d{4}-\d\d-\d\d$/,
    email: /^[^@\s]+@[^@\s]+\.[a-z]+$/,
    uri: /^https:\/\/example\.com\//,
    uuid: /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/
  }
  for (const [format, shape] of Object.entries(formats)) {
    const value = sampleJson({ type: 'string', format }, { topic: ['cats'] })
    t.match(value, shape, format)
  }
})

test('deterministic for the same input, varied for another', async (t) => {
  const schema: JsonSchema = { type: 'object', properties: { n: { type: 'integer', minimum: 0, maximum: 1_000_000 }, s: { type: 'string' } }, required: ['n', 's'] }
  t.same(sampleJson(schema, { seed: 'a', topic: ['x'] }), sampleJson(schema, { seed: 'a', topic: ['x'] }))
  t.notSame(sampleJson(schema, { seed: 'a', topic: ['x'] }), sampleJson(schema, { seed: 'b', topic: ['y'] }))
})

test('a caller can fill strings by property name', async (t) => {
  const v = sampleJson({ type: 'object', properties: { query: { type: 'string' }, other: { type: 'string' } } }, { stringFor: (p) => (p === 'query' ? 'cats' : undefined) }) as Record<string, string>
  t.equal(v.query, 'cats')
  t.not(v.other, 'cats')
})
