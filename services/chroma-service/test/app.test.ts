import { test } from 'tap'
import { backends, build } from './helper.js'

test('the chroma-service: health and API docs', async (t) => {
  const { nats, chroma } = await backends(t)
  const app = await build(t, { NATS_URL: nats.url, CHROMA_URL: chroma.url, HEALTH_TIMEOUT_MS: '1000' })

  await t.test('health follows the Chroma server: up, down when it stops, up again when it returns', async (t) => {
    const up = await app.inject({ url: '/health' })
    t.equal(up.statusCode, 200)
    t.equal(up.json().dependencies.chromadb.status, 'up')
    t.equal(up.json().dependencies.nats.status, 'up')
    t.equal(up.json().dependencies['memory-indexer'].status, 'up', 'no thread stream yet is not a failure')
    t.match(up.json().dependencies['memory-indexer'].message, /waiting for the SKEIN_THREADS stream/)

    await chroma.kill()
    const down = await app.inject({ url: '/api/health' })
    t.equal(down.statusCode, 503)
    t.equal(down.json().status, 'degraded')
    t.equal(down.json().dependencies.chromadb.status, 'down')

    await chroma.restart()
    const again = await app.inject({ url: '/health' })
    t.equal(again.statusCode, 200)
  })

  await t.test('the OpenAPI document at /api/openapi.json has every route, with examples; the Swagger UI is at /api/docs', async (t) => {
    const spec = await app.inject({ url: '/api/openapi.json' })
    t.equal(spec.statusCode, 200)
    const doc = spec.json()
    t.equal(doc.info.title, 'Skein chroma-service')
    const routes = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
    for (const route of [
      'GET /api/collections', 'POST /api/collections', 'GET /api/collections/{name}', 'DELETE /api/collections/{name}',
      'POST /api/collections/{name}/documents', 'GET /api/collections/{name}/documents/{id}', 'DELETE /api/collections/{name}/documents/{id}',
      'POST /api/collections/{name}/query', 'GET /api/memory/search', 'GET /api/health'
    ]) t.ok(routes.includes(route), route)
    const text = JSON.stringify(doc)
    for (const example of ['field-notes', 'where do puffins nest?', 'lighthouses guide ships', 'note-42']) t.ok(text.includes(example), `with examples: ${example}`)
    const ui = await app.inject({ url: '/api/docs/' })
    t.equal(ui.statusCode, 200)
    const uiSpec = await app.inject({ url: '/api/docs/json' })
    t.equal(uiSpec.json().info.title, 'Skein chroma-service')
  })
})
