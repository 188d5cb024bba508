import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildService, loadConfig, signToken } from '@skein/kit'
import { ChromaServer, NatsServer, startSimulator } from '@skein/stack'
import app, { definition } from '../src/app.js'
import { ChromaServiceConfig } from '../src/config.js'

const tmp = (): string => mkdtempSync(join(tmpdir(), 'skein-chroma-'))

/** A NATS server and a Chroma server of the test's own. */
export async function backends (t: Test): Promise<{ nats: NatsServer, chroma: ChromaServer }> {
  const nats = await NatsServer.start({ dataDir: tmp() })
  t.teardown(() => nats.stop())
  const chroma = await ChromaServer.start({ dataDir: tmp() })
  t.teardown(() => chroma.stop())
  return { nats, chroma }
}

export const SECRET = 'service-test-secret-0123456789abcdef0123'

/** Headers carrying a valid token for `user`. */
export function auth (user = 'alice'): Record<string, string> {
  return { authorization: `Bearer ${signToken(SECRET, user, 600).token}` }
}

/** The model simulator (for embeddings) as its own process; its /v1 URL. */
export async function simulator (t: Test): Promise<string> {
  const sim = await startSimulator()
  t.teardown(() => sim.stop())
  return sim.url
}

/** The chroma-service, built as the server builds it. */
export async function build (t: Test, env: Record<string, string>): Promise<FastifyInstance> {
  const config = loadConfig(ChromaServiceConfig, { LOG_LEVEL: 'silent', JWT_SECRET: SECRET, ...env })
  const fastify = await buildService({ ...definition, version: 'test', config }, app)
  t.teardown(() => fastify.close())
  return fastify
}
