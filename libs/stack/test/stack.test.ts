import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'tap'
import OpenAI from 'openai'
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

  // The official SDK, pointed at the funnel with a Skein token as its key, works unchanged.
  const client = new OpenAI({ baseURL: `${base}/v1`, apiKey: token, maxRetries: 0 })
  const listed = []
  for await (const m of client.models.list()) listed.push(m.id)
  t.ok(listed.includes('skein-sim-1') && listed.includes('skein-sim-embed'), 'the SDK lists the simulator\'s models')
  const stream = await client.chat.completions.create({ model: 'skein-sim-1', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Plan a weekend hike in the mountains' }] })
  let text = ''
  let usage
  let chunks = 0
  for await (const c of stream) {
    chunks++
    text += c.choices[0]?.delta.content ?? ''
    usage = c.usage ?? usage
  }
  t.match(text, /^\[simulated\].*hike/, 'a streamed answer through :5000')
  t.ok(chunks > 10, 'token by token')
  t.ok(usage && usage.completion_tokens > 0, 'with a usage block')
  const emb = await client.embeddings.create({ model: 'skein-sim-embed', input: ['mountain hiking trail', 'a trail for hiking in the mountains', 'invoice payment terms'] })
  const [a, b, c] = emb.data.map((d) => d.embedding)
  const dot = (x: number[], y: number[]): number => x.reduce((s, v, i) => s + v * y[i]!, 0)
  t.ok(dot(a!, b!) > dot(a!, c!), 'embeddings of texts that share words are closer')

  const image = await fetch(`${base}/images`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'A red kite over green hills', size: '256x256' }) })
  t.equal(image.status, 201)
  const item = await image.json() as { url: string, mime: string }
  const png = await fetch(`${base}${item.url}?token=${token}`)
  t.equal(png.headers.get('content-type'), 'image/png', 'the media URL serves the bytes through the funnel')
  t.equal(Buffer.from(await png.arrayBuffer()).subarray(1, 4).toString(), 'PNG')

  // A task runs to completion across the services, and its result lands in memory, found by its words.
  const authed = { authorization: `Bearer ${token}`, 'content-type': 'application/json' }
  const task = await (await fetch(`${base}/tasks`, { method: 'POST', headers: authed, body: JSON.stringify({ task: 'Explain how lighthouses guide ships at night' }) })).json() as { id: string }
  let record: { status: string, result: string | null } = { status: 'planning', result: null }
  for (let i = 0; i < 300 && !['completed', 'failed'].includes(record.status); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    record = await (await fetch(`${base}/threads/${task.id}`, { headers: authed })).json() as typeof record
  }
  t.equal(record.status, 'completed', 'a task completes through the funnel')
  let hits: Array<{ id: string, metadata: { thread: string } }> = []
  for (let i = 0; i < 100 && !hits.some((h) => h.id === `answer-${task.id}`); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    hits = (await (await fetch(`${base}/api/memory/search?q=${encodeURIComponent('lighthouses guide ships')}&scope=thread&id=${task.id}`, { headers: authed })).json() as { results: typeof hits }).results ?? []
  }
  t.ok(hits.some((h) => h.id === `answer-${task.id}` && h.metadata.thread === task.id), 'memory search finds the task\'s result, scoped to its thread')

  // The search_memory tool: the assistant asks the chroma-service over NATS and uses what it finds.
  const recall = await (await fetch(`${base}/tasks`, { method: 'POST', headers: authed, body: JSON.stringify({ task: 'Search memory for lighthouses and ships' }) })).json() as { id: string }
  let recalled: { status: string, result: string | null } = { status: 'planning', result: null }
  for (let i = 0; i < 300 && !['completed', 'failed'].includes(recalled.status); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    recalled = await (await fetch(`${base}/threads/${recall.id}`, { headers: authed })).json() as typeof recalled
  }
  t.equal(recalled.status, 'completed')
  const notes = (await (await fetch(`${base}/threads/${recall.id}/messages`, { headers: authed })).json() as { messages: Array<{ role: string, text: string }> }).messages
  const searched = notes.find((m) => m.role === 'system' && m.text.startsWith('Searched memory for'))
  t.ok(searched, 'the assistant called search_memory, and the thread shows it')
  t.ok(record.result && searched?.text.includes(`1. ${record.result.slice(0, 80)}`), 'memory answered with the earlier task\'s result first')

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
