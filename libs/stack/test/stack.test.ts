import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'tap'
import { freePort, freePorts, startStack } from '../src/index.js'

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

test('the whole stack, started as npm start does, is healthy and documented through the funnel', async (t) => {
  const ports = await freePorts()
  const progress: string[] = []
  const stack = await startStack({
    dataDir: mkdtempSync(join(tmpdir(), 'skein-stack-')),
    ports,
    natsUrl: `nats://127.0.0.1:${await freePort()}`,
    env: { LOG_LEVEL: 'warn' },
    onProgress: (m) => progress.push(m)
  })
  let stopped = false
  t.teardown(async () => { if (!stopped) await stack.stop() })
  const base = stack.funnelUrl
  t.equal(base, `http://127.0.0.1:${ports.funnel}`)
  t.same(stack.parts.map((p) => p.name), ['nats', 'chromadb', 'model-simulator', 'openai-service', 'chroma-service', 'funnel', 'web'])
  t.ok(stack.parts.every((p) => p.origin === 'started'), 'it started its own NATS and Chroma')
  t.equal(stack.modelBackend.kind, 'simulator', 'no key: the simulator answers')
  t.ok(progress.includes('starting nats-server with JetStream'), 'progress is shown')

  const health = await fetch(`${base}/health`)
  t.equal(health.status, 200)
  const body = await health.json() as { status: string, services: Record<string, { status: string, details?: { dependencies?: Record<string, { message?: string }> } }> }
  t.equal(body.status, 'ok')
  t.match(body.services.openai?.details?.dependencies?.model?.message, /simulator/, 'health says which model backend runs')

  const docs = await fetch(`${base}/docs/`)
  t.equal(docs.status, 200)
  t.match(await docs.text(), /swagger/i, '/docs is the Swagger UI')
  const spec = await (await fetch(`${base}/openai.json`)).json() as { info: { title: string }, paths: Record<string, unknown> }
  t.equal(spec.info.title, 'Skein openai-service')
  t.ok(spec.paths['/v1/models'], 'the openai-service spec lists its routes')
  const apiSpec = await (await fetch(`${base}/api/openapi.json`)).json() as { info: { title: string }, paths: Record<string, unknown> }
  t.equal(apiSpec.info.title, 'Skein chroma-service')
  const apiDocs = await fetch(`${base}/api/docs/`)
  t.equal(apiDocs.status, 200)
  t.match(await apiDocs.text(), /swagger/i, '/api/docs is the chroma-service Swagger UI')
  const uiSpec = await (await fetch(`${base}/api/docs/json`)).json() as { info: { title: string } }
  t.equal(uiSpec.info.title, 'Skein chroma-service', 'the UI behind the funnel loads the right spec')

  t.equal((await fetch(`${base}/v1/models`)).status, 401, 'a token is needed')
  const { token } = await (await fetch(`${base}/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"user":"alice"}' })).json() as { token: string }
  const models = await (await fetch(`${base}/v1/models`, { headers: { authorization: `Bearer ${token}` } })).json() as { data: Array<{ id: string }> }
  t.ok(models.data.some((m) => m.id === 'skein-sim-1'), 'the openai-service reaches the simulator')

  const web = await fetch(`http://127.0.0.1:${ports.web}/`)
  t.equal(web.status, 200)
  const html = await web.text()
  t.match(html, /<div id="root">/)
  t.match(html, new RegExp(`"funnelUrl":"http://127.0.0.1:${ports.funnel}"`), 'the web app is told where the funnel is')

  const pids = stack.parts.map((p) => p.pid).filter((p): p is number => typeof p === 'number')
  t.equal(pids.length, 7)
  await stack.stop()
  stopped = true
  t.same(pids.filter(alive), [], 'stopping leaves no process behind')
})
