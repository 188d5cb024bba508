#!/usr/bin/env node
// `pnpm --filter @skein/chroma-service rebuild` (or `npm run memory:rebuild` at the root): re-indexes thread memory
// from the JetStream stream SKEIN_THREADS into a fresh Chroma collection, carrying over the documents whose messages
// the stream no longer keeps (memory is their only copy), then swaps it in. Reads the same
// environment as the chroma-service (NATS_URL, CHROMA_URL, OPENAI_*, MODELS_CONFIG, EMBEDDING_*,
// MEMORY_COLLECTION). With none of OPENAI_API_KEY, OPENAI_BASE_URL and MODELS_CONFIG it embeds with the local
// stack's simulator, as `npm start` does.
import { connectBus } from '@skein/bus'
import { ConfigError, loadConfig } from '@skein/kit'
import { RebuildConfig } from './config.js'
import { Embedder } from './embeddings/embedder.js'
import { rebuildMemory, type RebuildProgress } from './memory/rebuild.js'
import { ThreadDirectory } from './memory/thread-directory.js'
import { connectChroma } from './plugins/chroma-client.js'

const say = (line: string): void => { process.stdout.write(`▸ ${line}\n`) }
const fail = (line: string): never => {
  process.stderr.write(`✖ memory rebuild: ${line}\n`)
  process.exit(1)
}

const env: Record<string, string | undefined> = { ...process.env }
if (!env.OPENAI_API_KEY && !env.OPENAI_BASE_URL && !env.MODELS_CONFIG) {
  env.OPENAI_BASE_URL = `http://127.0.0.1:${env.SIMULATOR_PORT ?? '8090'}/v1`
  env.OPENAI_API_KEY = 'simulator'
  env.MODEL_BACKEND ??= 'simulator'
}
let config: RebuildConfig
try {
  config = loadConfig(RebuildConfig, env)
} catch (err) {
  fail(err instanceof ConfigError ? err.message : String(err))
  throw err
}

let embedder: Embedder
try {
  embedder = new Embedder(config)
} catch (err) {
  fail(err instanceof Error ? err.message : String(err))
  throw err
}
say(`rebuilding "${config.MEMORY_COLLECTION}" on ${config.CHROMA_URL} from SKEIN_THREADS on ${config.NATS_URL}, embedding with ${embedder.model} (${embedder.where})`)
const nc = await connectBus({ servers: config.NATS_URL, name: 'chroma-service-rebuild', connectTimeoutMs: config.NATS_CONNECT_TIMEOUT_MS }).catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)))
const chroma = connectChroma(config.CHROMA_URL, config.CHROMA_TIMEOUT_MS)
try {
  await chroma.heartbeat()
} catch {
  fail(`Chroma does not answer at ${config.CHROMA_URL}: start it (npm start does) or set CHROMA_URL`)
}

let shown = 0
const progress = (p: RebuildProgress): void => {
  const now = Date.now()
  if (((p.phase === 'indexing' && p.read < p.total) || p.phase === 'carrying over') && now - shown < 500) return
  shown = now
  say(`${p.phase}: ${p.read}/${p.total} messages read, ${p.indexed} documents${p.carried ? ` (${p.carried} carried over)` : ''}`)
}

try {
  const r = await rebuildMemory({ nc, chroma, embedder, directory: new ThreadDirectory(nc, { rpcTimeoutMs: config.THREADS_RPC_TIMEOUT_MS }), collection: config.MEMORY_COLLECTION, batch: config.MEMORY_BATCH }, progress)
  say(`rebuilt "${r.collection}" with ${r.embeddingModel}: ${r.count} documents (before: ${r.previousCount ?? 'no collection'}) from ${r.messages} messages in ${(r.ms / 1000).toFixed(1)} s`)
  say(`carried: ${r.carried} documents kept from the previous collection, embedded again: the stream no longer has their messages`)
  say(`skipped ${r.skipped.notMemory} messages memory does not keep (system notes)${r.skipped.noRecord ? `, ${r.skipped.noRecord} of threads without a record` : ''}${r.skipped.refused ? `, ${r.skipped.refused} whose text the embedding backend refuses` : ''}`)
  process.stdout.write(`${JSON.stringify(r)}\n`)
} catch (err) {
  fail(err instanceof Error ? err.message : String(err))
} finally {
  await nc.drain().catch(() => {})
}
