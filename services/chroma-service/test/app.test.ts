import { test } from 'tap'
import { backends, build } from './helper.js'

test('health follows the Chroma server: up, down when it stops, up again when it returns', async (t) => {
  const { nats, chroma } = await backends(t)
  const app = await build(t, { NATS_URL: nats.url, CHROMA_URL: chroma.url, HEALTH_TIMEOUT_MS: '1000' })
  const up = await app.inject({ url: '/health' })
  t.equal(up.statusCode, 200)
  t.equal(up.json().dependencies.chromadb.status, 'up')
  t.equal(up.json().dependencies.nats.status, 'up')

  await chroma.stop()
  const down = await app.inject({ url: '/api/health' })
  t.equal(down.statusCode, 503)
  t.equal(down.json().status, 'degraded')
  t.equal(down.json().dependencies.chromadb.status, 'down')

  await chroma.restart()
  const again = await app.inject({ url: '/health' })
  t.equal(again.statusCode, 200)
})

test('the OpenAPI document is at /api/openapi.json and the Swagger UI at /api/docs', async (t) => {
  const { nats, chroma } = await backends(t)
  const app = await build(t, { NATS_URL: nats.url, CHROMA_URL: chroma.url })
  const spec = await app.inject({ url: '/api/openapi.json' })
  t.equal(spec.statusCode, 200)
  t.equal(spec.json().info.title, 'Skein chroma-service')
  t.ok(spec.json().paths['/api/health'])
  const ui = await app.inject({ url: '/api/docs/' })
  t.equal(ui.statusCode, 200)
  const uiSpec = await app.inject({ url: '/api/docs/json' })
  t.equal(uiSpec.json().info.title, 'Skein chroma-service')
})
