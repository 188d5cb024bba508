import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'tap'
import { readModelsFile } from '../src/index.js'

const file = (content: unknown): string => {
  const path = join(mkdtempSync(join(tmpdir(), 'skein-models-')), 'models.json')
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content))
  return path
}

test('a valid models file is read as it is written', async (t) => {
  const models = {
    defaultModel: 'llama3.2',
    embeddingModel: 'nomic-embed-text',
    backends: [{ name: 'ollama', baseURL: 'http://127.0.0.1:11434/v1', models: ['*'] }]
  }
  t.same(readModelsFile(file(models)), models)
})

test('a bad models file is refused with a message naming the file and what is wrong', async (t) => {
  t.throws(() => readModelsFile(file({ defaultModel: 'x', backends: [{ name: 'Bad Name', models: [] }] })), {
    message: /^MODELS_CONFIG .*models\.json is not a valid models file: .*\/ must have required property 'embeddingModel'.*\/backends\/0\/name must match pattern.*\/backends\/0\/models must NOT have fewer than 1 items/
  })
  t.throws(() => readModelsFile(file('{ nope')), { message: /^MODELS_CONFIG .*models\.json: .*JSON/ })
  t.throws(() => readModelsFile('/nonexistent/models.json'), { message: /^MODELS_CONFIG \/nonexistent\/models\.json: ENOENT/ })
})
