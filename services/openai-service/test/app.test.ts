import { test } from 'tap'
import { auth, build, nats, simulator } from './helper.js'

test('with no model backend, health says it is missing and what to do', async (t) => {
  const n = await nats(t)
  const app = await build(t, { NATS_URL: n.url })
  const res = await app.inject({ url: '/health' })
  t.equal(res.statusCode, 503)
  t.equal(res.json().dependencies.nats.status, 'up')
  t.equal(res.json().dependencies.model.status, 'down')
  t.match(res.json().dependencies.model.message, /no model backend: set OPENAI_API_KEY/)
  const models = await app.inject({ url: '/v1/models', headers: auth() })
  t.equal(models.statusCode, 503)
  t.equal(models.json().error.code, 'OPENAI_NO_BACKEND')
})

test('OPENAI_BASE_URL points the SDK at a real OpenAI-compatible server (here the simulator as a process)', async (t) => {
  const n = await nats(t)
  const base = await simulator(t, { SIM_MODELS: 'elsewhere-model' })
  const app = await build(t, { NATS_URL: n.url, OPENAI_BASE_URL: base, OPENAI_API_KEY: 'k' })
  const health = await app.inject({ url: '/health' })
  t.equal(health.statusCode, 200)
  t.match(health.json().dependencies.model.message, new RegExp(`OpenAI-compatible backend at ${base}`))
  const models = await app.inject({ url: '/v1/models', headers: auth() })
  t.equal(models.statusCode, 200)
  t.same(models.json().data.map((m: { id: string }) => m.id), ['elsewhere-model', 'skein-sim-embed'])
})

test('the OpenAPI document is at /openai.json and the Swagger UI at /docs', async (t) => {
  const n = await nats(t)
  const app = await build(t, { NATS_URL: n.url })
  const spec = await app.inject({ url: '/openai.json' })
  t.equal(spec.statusCode, 200)
  t.equal(spec.json().info.title, 'Skein openai-service')
  t.ok(spec.json().paths['/v1/models'])
  t.ok(spec.json().paths['/health'])
  const ui = await app.inject({ url: '/docs/' })
  t.equal(ui.statusCode, 200)
})

test('the dev login issues a token that the service accepts; it can be turned off', async (t) => {
  const n = await nats(t)
  const app = await build(t, { NATS_URL: n.url })
  const login = await app.inject({ method: 'POST', url: '/auth/token', payload: { user: 'alice' } })
  t.equal(login.statusCode, 200)
  t.equal(login.json().user, 'alice')
  const models = await app.inject({ url: '/v1/models', headers: { authorization: `Bearer ${login.json().token}` } })
  t.equal(models.statusCode, 503, 'past auth (no backend configured here)')
  const anonymous = await app.inject({ url: '/v1/models' })
  t.equal(anonymous.statusCode, 401)
  const bad = await app.inject({ method: 'POST', url: '/auth/token', payload: { user: '../root' } })
  t.equal(bad.statusCode, 400)
  t.match(bad.json().error.message, /body\/user must match pattern/)

  const off = await build(t, { NATS_URL: n.url, AUTH_DEV_LOGIN: 'false' })
  const refused = await off.inject({ method: 'POST', url: '/auth/token', payload: { user: 'alice' } })
  t.equal(refused.statusCode, 403)
  t.equal(refused.json().error.code, 'AUTH_DEV_LOGIN_DISABLED')
})
