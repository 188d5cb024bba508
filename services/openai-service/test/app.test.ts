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
  const ids = models.json().data.map((m: { id: string }) => m.id)
  t.ok(ids.includes('elsewhere-model') && !ids.includes('skein-sim-1'), 'the models of that server, and only them')
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

interface Operation {
  parameters?: Array<{ name: string }>
  requestBody?: { content: Record<string, unknown> }
  responses: Record<string, { content?: Record<string, { schema?: { type?: unknown } }> }>
}

/** True when an OpenAPI fragment holds an example anywhere (media `example(s)`, schema `examples`). */
const hasExample = (fragment: unknown): boolean => {
  if (Array.isArray(fragment)) return fragment.some(hasExample)
  if (!fragment || typeof fragment !== 'object') return false
  return Object.entries(fragment).some(([k, v]) => ((k === 'example' || k === 'examples') && v !== undefined) || hasExample(v))
}

/** What is missing from the document: every route the issues name, and an example for each operation. */
function openApiGaps (paths: Record<string, Record<string, Operation>>): string[] {
  const gaps: string[] = []
  const named = [
    'GET /v1/models', 'POST /v1/chat/completions', 'POST /v1/embeddings', 'POST /speech', 'POST /images', 'GET /media/{id}',
    'POST /auth/token', 'GET /threads/main', 'GET /threads', 'GET /threads/{id}', 'GET /threads/{id}/tree',
    'GET /threads/{id}/messages', 'POST /threads/{id}/messages', 'POST /tasks', 'POST /threads/{id}/cancel',
    'POST /threads/{id}/stop', 'GET /threads/{id}/events', 'GET /models/stats', 'GET /health'
  ]
  for (const route of named) {
    const [method, path] = route.split(' ') as [string, string]
    if (!paths[path]?.[method.toLowerCase()]) gaps.push(`${route}: not in the document`)
  }
  for (const [path, ops] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const route = `${method.toUpperCase()} ${path}`
      const ok = Object.entries(op.responses).filter(([status]) => status.startsWith('2'))
      if (!hasExample(op.requestBody) && !hasExample(op.parameters) && !ok.some(([, r]) => hasExample(r))) gaps.push(`${route}: no example at all`)
      if (op.requestBody && !hasExample(op.requestBody)) gaps.push(`${route}: no example of its request body`)
      for (const [status, r] of ok) {
        // A typed answer (JSON, or the SSE text) shows one; raw bytes (media) are shown by their parameters.
        const typed = Object.values(r.content ?? {}).some((m) => m.schema?.type !== undefined)
        if (typed && !hasExample(r)) gaps.push(`${route}: no example of its ${status} answer`)
      }
    }
  }
  return gaps
}

test('every route is in the OpenAPI document, each with an example of its answer and body', async (t) => {
  const n = await nats(t)
  const app = await build(t, { NATS_URL: n.url })
  const paths = (await app.inject({ url: '/openai.json' })).json().paths as Record<string, Record<string, Operation>>
  t.same(openApiGaps(paths), [], 'no route or example missing')
  for (const [path, ops] of Object.entries(paths)) {
    for (const method of Object.keys(ops)) {
      t.ok(app.hasRoute({ method: method.toUpperCase() as 'GET', url: path.replace(/\{(\w+)\}/g, ':$1') }), `${method.toUpperCase()} ${path} is a real route`)
    }
  }
})

test('the dev login issues a token that the service accepts; it is off unless turned on', async (t) => {
  const n = await nats(t)
  const app = await build(t, { NATS_URL: n.url, AUTH_DEV_LOGIN: 'true' })
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

  const off = await build(t, { NATS_URL: n.url })
  const refused = await off.inject({ method: 'POST', url: '/auth/token', payload: { user: 'alice' } })
  t.equal(refused.statusCode, 403)
  t.equal(refused.json().error.code, 'AUTH_DEV_LOGIN_DISABLED')
})
