import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildService, loadConfig, signToken } from '@skein/kit'
import { NatsServer, startSimulator } from '@skein/stack'
import app, { definition } from '../src/app.js'
import { OpenAIServiceConfig } from '../src/config.js'

/** A NATS server of the test's own. */
export async function nats (t: Test): Promise<NatsServer> {
  const server = await NatsServer.start({ dataDir: mkdtempSync(join(tmpdir(), 'skein-openai-')) })
  t.teardown(() => server.stop())
  return server
}

/** The model simulator as its own process (as npm start runs it), on a free port; its /v1 URL. */
export async function simulator (t: Test, env: Record<string, string> = {}): Promise<string> {
  const sim = await startSimulator(env)
  t.teardown(() => sim.stop())
  return sim.url
}

export const SECRET = 'service-test-secret-0123456789abcdef0123'

/** Headers carrying a valid token for `user`. */
export function auth (user = 'alice'): Record<string, string> {
  return { authorization: `Bearer ${signToken(SECRET, user, 600).token}` }
}

/** The openai-service, built as the server builds it. */
export async function build (t: Test, env: Record<string, string>): Promise<FastifyInstance> {
  const config = loadConfig(OpenAIServiceConfig, { LOG_LEVEL: 'silent', JWT_SECRET: SECRET, ...env })
  const fastify = await buildService({ ...definition, version: 'test', config }, app)
  t.teardown(() => fastify.close())
  return fastify
}

/** Asks `probe` again every `everyMs` until it gives a value; fails naming `what` after `timeoutMs`. */
export async function until<V> (what: string, probe: () => Promise<V | undefined | null | false>, timeoutMs = 30_000, everyMs = 100): Promise<V> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await probe()
    if (v) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}
