import { test } from 'tap'
import { loadConfig } from '@skein/kit'
import { freePort, startSimulator } from '@skein/stack'
import { MemorySettings } from '../../src/config.js'
import { Embedder } from '../../src/embeddings/embedder.js'

const embedder = (env: Record<string, string>): Embedder => new Embedder(loadConfig(MemorySettings, { MODEL_BACKEND: 'simulator', OPENAI_API_KEY: 'sim', ...env }))

test('the embedder', async (t) => {
  const sim = await startSimulator()
  t.teardown(() => sim.stop())

  await t.test('embeds many texts in batches, several at once, and keeps their order', async (t) => {
    const texts = Array.from({ length: 7 }, (_v, i) => `text number ${i} about ${['tides', 'rivers', 'glaciers'][i % 3]}`)
    const batched = await embedder({ OPENAI_BASE_URL: sim.url, EMBEDDING_BATCH: '2', EMBEDDING_CONCURRENCY: '3' }).embed(texts)
    const oneByOne = await Promise.all(texts.map(async (x) => (await embedder({ OPENAI_BASE_URL: sim.url }).embed([x]))[0]))
    t.equal(batched.length, 7)
    t.same(batched, oneByOne, 'the same vectors, in the order of the texts')
    t.equal(batched[0]!.length, 256)
    t.same(await embedder({ OPENAI_BASE_URL: sim.url }).embed([]), [])
  })

  await t.test('knows its model and the length of its vectors', async (t) => {
    const e = embedder({ OPENAI_BASE_URL: sim.url, EMBEDDING_DIMENSIONS: '64' })
    t.equal(e.model, 'skein-sim-embed')
    t.equal(await e.dimensions(), 64, 'EMBEDDING_DIMENSIONS is asked of the backend')
    t.equal(embedder({ MODEL_BACKEND: 'openai-compatible' }).model, 'text-embedding-3-small')
  })

  await t.test('retries 5xx answers, then gives up with a 503 saying why', async (t) => {
    const flaky = await startSimulator({ SIM_FAULT: 'status=503,times=2' })
    t.teardown(() => flaky.stop())
    const [v] = await embedder({ OPENAI_BASE_URL: flaky.url }).embed(['after two failures'])
    t.equal(v!.length, 256, 'two 503s, then an answer')

    const wrong = embedder({ OPENAI_BASE_URL: sim.url, EMBEDDING_MODEL: 'no-such-model' })
    await t.rejects(wrong.embed(['x']), { code: 'MEMORY_EMBEDDING_UNAVAILABLE', statusCode: 503, message: /no-such-model \(HTTP 404\)/ })
    const gone = embedder({ OPENAI_BASE_URL: `http://127.0.0.1:${await freePort()}/v1` })
    await t.rejects(gone.embed(['x']), { code: 'MEMORY_EMBEDDING_UNAVAILABLE', message: /cannot reach http:\/\/127\.0\.0\.1:\d+/ })
    const none = new Embedder(loadConfig(MemorySettings, {}))
    await t.rejects(none.embed(['x']), { message: /no embedding backend is configured/ })
  })
})
