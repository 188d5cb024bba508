import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { test, type Test } from 'tap'
import { loadConfig } from '@skein/kit'
import Fastify from 'fastify'
import { ChromaServiceConfig, MemorySettings } from '../../src/config.js'
import { Embedder } from '../../src/embeddings/embedder.js'
import embedderPlugin from '../../src/plugins/embedder.js'

// The chroma-service embeds with the model the models file (MODELS_CONFIG) names, on the backend that serves
// it, as the openai-service would route it. Each backend here is a real HTTP server that records what it is asked.

interface Asked { method: string, path: string, model?: string, authorization?: string }

/** An OpenAI-compatible backend serving `models`: GET /v1/models lists them, POST /v1/embeddings embeds with them (404 for others). */
async function backend (t: Test, models: string[]): Promise<{ url: string, asked: Asked[] }> {
  const asked: Asked[] = []
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = ''
    req.on('data', (chunk: Buffer) => { raw += chunk.toString('utf8') })
    req.on('end', () => {
      const body = raw ? JSON.parse(raw) as { model?: string, input?: string[] } : {}
      asked.push({ method: req.method ?? '', path: req.url ?? '', ...(body.model ? { model: body.model } : {}), ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) })
      res.setHeader('content-type', 'application/json')
      if (req.method === 'GET' && req.url === '/v1/models') {
        res.end(JSON.stringify({ object: 'list', data: models.map((id) => ({ id, object: 'model', created: 0, owned_by: 'stub' })) }))
      } else if (req.method === 'POST' && req.url === '/v1/embeddings' && body.model && models.includes(body.model)) {
        res.end(JSON.stringify({ object: 'list', model: body.model, data: (body.input ?? []).map((_x, index) => ({ object: 'embedding', index, embedding: [index, 1, 0] })) }))
      } else {
        res.statusCode = 404
        res.end(JSON.stringify({ error: { message: `The model \`${body.model ?? '?'}\` does not exist`, type: 'invalid_request_error', code: 'model_not_found', param: 'model' } }))
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, asked }
}

const modelsFile = (content: unknown): string => {
  const path = join(mkdtempSync(join(tmpdir(), 'skein-models-')), 'models.json')
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content))
  return path
}

const embedder = (env: Record<string, string>, processEnv: Record<string, string> = {}): Embedder => new Embedder(loadConfig(MemorySettings, env), processEnv)
const embeddingCalls = (asked: Asked[]): Asked[] => asked.filter((a) => a.path === '/v1/embeddings')

test('with a models file, memory is embedded with its embeddingModel, by the backend that serves it, with that backend\'s key', async (t) => {
  // As npm start and compose run it: OPENAI_BASE_URL and OPENAI_API_KEY are set, and replace the first backend's.
  const cloud = await backend(t, ['gpt-4o-mini', 'text-embedding-3-small'])
  const ollama = await backend(t, ['llama3.2', 'nomic-embed-text', 'all-minilm'])
  const path = modelsFile({
    defaultModel: 'llama3.2',
    embeddingModel: 'nomic-embed-text',
    backends: [
      { name: 'cloud', models: ['gpt-4o-mini', 'text-embedding-3-small'] },
      { name: 'ollama', baseURL: ollama.url, apiKeyEnv: 'OLLAMA_KEY', models: ['*'] }
    ]
  })
  const env = { MODELS_CONFIG: path, OPENAI_BASE_URL: cloud.url, OPENAI_API_KEY: 'cloud-key' }

  await t.test('the file\'s embeddingModel, on the backend that serves it', async (t) => {
    const e = embedder(env, { OLLAMA_KEY: 'ollama-key' })
    t.equal(e.model, 'nomic-embed-text')
    t.same(await e.embed(['puffins nest in burrows', 'lighthouses guide ships']), [[0, 1, 0], [1, 1, 0]])
    t.same(embeddingCalls(ollama.asked), [{ method: 'POST', path: '/v1/embeddings', model: 'nomic-embed-text', authorization: 'Bearer ollama-key' }])
    t.same(cloud.asked, [], 'the first backend (OPENAI_BASE_URL) is not asked')
  })

  await t.test('EMBEDDING_MODEL still wins, and is routed like any model', async (t) => {
    ollama.asked.length = 0
    const other = embedder({ ...env, EMBEDDING_MODEL: 'all-minilm' }, { OLLAMA_KEY: 'ollama-key' })
    t.equal(other.model, 'all-minilm')
    await other.embed(['x'])
    t.same(embeddingCalls(ollama.asked), [{ method: 'POST', path: '/v1/embeddings', model: 'all-minilm', authorization: 'Bearer ollama-key' }], 'a model no list names: the wildcard backend')

    const named = embedder({ ...env, EMBEDDING_MODEL: 'text-embedding-3-small' }, { OLLAMA_KEY: 'ollama-key' })
    await named.embed(['x'])
    t.same(embeddingCalls(cloud.asked), [{ method: 'POST', path: '/v1/embeddings', model: 'text-embedding-3-small', authorization: 'Bearer cloud-key' }], 'a model the first backend names: it, with OPENAI_API_KEY')
  })
})

test('among several wildcard backends, the one whose /models lists the model embeds; a model none serves is a 503 naming the file', async (t) => {
  const a = await backend(t, ['llama3.2'])
  const b = await backend(t, ['mxbai-embed-large'])
  const path = modelsFile({
    defaultModel: 'llama3.2',
    embeddingModel: 'mxbai-embed-large',
    backends: [
      { name: 'gpu-a', baseURL: a.url, apiKey: 'key-a', models: ['*'] },
      { name: 'gpu-b', baseURL: b.url, apiKey: 'key-b', models: ['*'] }
    ]
  })
  const e = embedder({ MODELS_CONFIG: path })
  await e.embed(['x'])
  await e.embed(['y'])
  t.same(embeddingCalls(a.asked), [], 'the backend that does not list it is not asked to embed')
  t.same(embeddingCalls(b.asked).map((x) => [x.model, x.authorization]), [['mxbai-embed-large', 'Bearer key-b'], ['mxbai-embed-large', 'Bearer key-b']])
  t.equal(b.asked.filter((x) => x.path === '/v1/models').length, 1, 'the choice is made once')

  const none = embedder({ MODELS_CONFIG: path, EMBEDDING_MODEL: 'no-such-embed' })
  await t.rejects(none.embed(['x']), { code: 'MEMORY_EMBEDDING_UNAVAILABLE', statusCode: 503, message: new RegExp(`no-such-embed: no backend of MODELS_CONFIG ${path} serves it \\(gpu-a, gpu-b do not list it\\)`) })
})

test('a bad models file stops the chroma-service at start, naming the file and what is wrong', async (t) => {
  // The embedder plugin, as the service registers it (after NATS and Chroma, which a failed start would leave open here).
  const start = async (env: Record<string, string>): Promise<void> => {
    const app = Fastify({ logger: false })
    app.decorate('config', loadConfig(ChromaServiceConfig, { JWT_SECRET: 'x'.repeat(32), ...env }))
    await app.register(embedderPlugin)
    t.teardown(() => app.close())
    await app.ready()
  }
  const bad = modelsFile({ defaultModel: 'x', embeddingModel: 'e', backends: [{ name: 'Bad Name', models: ['e'] }] })
  await t.rejects(start({ MODELS_CONFIG: bad }), { message: new RegExp(`^MODELS_CONFIG ${bad} is not a valid models file: /backends/0/name must match pattern`) })
  const broken = modelsFile('{ "defaultModel": ')
  await t.rejects(start({ MODELS_CONFIG: broken }), { message: new RegExp(`^MODELS_CONFIG ${broken}: .*JSON`) })
  await t.resolves(start({ MODELS_CONFIG: modelsFile({ defaultModel: 'x', embeddingModel: 'e', backends: [{ name: 'good', models: ['e'] }] }) }), 'a good one starts')
  t.throws(() => embedder({ MODELS_CONFIG: '/nonexistent/models.json' }), { message: /^MODELS_CONFIG \/nonexistent\/models\.json: ENOENT/ }, 'and so does the rebuild command, which builds an Embedder too')
})
