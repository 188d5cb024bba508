import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'tap'
import { loadConfig } from '@skein/kit'
import { OpenAIServiceConfig } from '../src/config.js'
import { resolveModels } from '../src/models/models-file.js'

const config = (env: Record<string, string>) => loadConfig(OpenAIServiceConfig, { JWT_SECRET: 'x'.repeat(32), ...env })
const file = (content: unknown): string => {
  const path = join(mkdtempSync(join(tmpdir(), 'skein-models-')), 'models.json')
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content))
  return path
}

test('no file, no key, no base URL: no backend at all', async (t) => {
  t.same(resolveModels(config({})).backends, [])
})

test('the environment alone makes one backend serving whatever it lists', async (t) => {
  const r = resolveModels(config({ OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1', SKEIN_MODEL: 'llama3.2', MODEL_MAX_RETRIES: '4' }))
  t.equal(r.defaultModel, 'llama3.2')
  t.equal(r.embeddingModel, 'text-embedding-3-small')
  t.same(r.backends.map((b) => [b.name, b.baseURL, b.models, b.maxRetries]), [['default', 'http://127.0.0.1:11434/v1', '*', 4]])
  t.equal(resolveModels(config({ OPENAI_API_KEY: 'k', MODEL_BACKEND: 'simulator' })).defaultModel, 'skein-sim-1')
})

test('a models file names backends, models and defaults; the environment overrides the first backend', async (t) => {
  const path = file({
    defaultModel: 'big',
    fallbackModel: 'small',
    embeddingModel: 'emb',
    backends: [
      { name: 'local', baseURL: 'http://127.0.0.1:9/v1', models: ['big', 'emb'], timeouts: { firstTokenMs: 1234 } },
      { name: 'cloud', apiKeyEnv: 'CLOUD_KEY', models: ['small'], maxRetries: 0 }
    ]
  })
  const r = resolveModels(config({ MODELS_CONFIG: path, OPENAI_BASE_URL: 'http://127.0.0.1:10/v1' }), { CLOUD_KEY: 'secret' })
  t.equal(r.defaultModel, 'big')
  t.equal(r.fallbackModel, 'small')
  t.equal(r.backends[0]?.baseURL, 'http://127.0.0.1:10/v1')
  t.equal(r.backends[0]?.timeouts.firstTokenMs, 1234)
  t.equal(r.backends[0]?.timeouts.idleMs, 30_000, 'the rest from the environment\'s defaults')
  t.equal(r.backends[1]?.apiKey, 'secret', 'keys come from the variable the file names')
  t.equal(r.backends[1]?.maxRetries, 0)
})

test('a bad models file names the file and the field', async (t) => {
  t.throws(() => resolveModels(config({ MODELS_CONFIG: file({ defaultModel: 'x', embeddingModel: 'e', backends: [{ name: 'Bad Name', models: [] }] }) })), { message: /is not a valid models file: \/backends\/0\/name must match pattern/ })
  t.throws(() => resolveModels(config({ MODELS_CONFIG: file('{ nope') }) ), { message: /MODELS_CONFIG .*models\.json: / })
})
