import { test } from 'tap'
import { Ajv } from 'ajv'
import { ChatCompletionRequest, ErrorBody, ServiceHealth, StackHealth, StackParts } from '../src/index.js'

const ajv = new Ajv({ strict: false })

test('the error body is exactly { error: { code, message } }', async (t) => {
  const check = ajv.compile(ErrorBody)
  t.ok(check({ error: { code: 'X_Y', message: 'why' } }))
  t.notOk(check({ error: { code: 'X_Y' } }))
  t.notOk(check({ message: 'why' }))
})

test('stack health names every part of the stack', async (t) => {
  t.same(Object.keys(StackHealth.properties.services.properties), [...StackParts])
  const check = ajv.compile(ServiceHealth)
  t.ok(check({ status: 'ok', service: 's', version: '1', instance: 'h:1', uptimeSeconds: 0, dependencies: { nats: { status: 'up', latencyMs: 1 } } }))
  t.notOk(check({ status: 'fine', service: 's', version: '1', instance: 'h:1', uptimeSeconds: 0, dependencies: {} }))
})

test('a chat completion request needs a model and at least one message', async (t) => {
  const check = ajv.compile(ChatCompletionRequest)
  t.ok(check({ model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true }))
  t.notOk(check({ model: 'm', messages: [] }))
  t.notOk(check({ messages: [{ role: 'user', content: 'hi' }] }))
  t.notOk(check({ model: 'm', messages: [{ role: 'robot', content: 'hi' }] }))
})
