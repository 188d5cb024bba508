import { readFileSync } from 'node:fs'
import { Ajv } from 'ajv'
import { ModelsConfig } from '@skein/schemas'

const validate = new Ajv({ allErrors: true, strict: false }).compile(ModelsConfig)

/**
 * Reads and validates a models file (MODELS_CONFIG), for every service that resolves models from it (the
 * openai-service's model layer, the chroma-service's embedder); the error names the file and the failing field.
 */
export function readModelsFile (path: string): ModelsConfig {
  let data: unknown
  try {
    data = JSON.parse(readFileSync(path, 'utf8'))
  } catch (err) {
    throw new Error(`MODELS_CONFIG ${path}: ${err instanceof Error ? err.message : String(err)}`)
  }
  if (!validate(data)) {
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`).join('; ')
    throw new Error(`MODELS_CONFIG ${path} is not a valid models file: ${problems}`)
  }
  return data as ModelsConfig
}
