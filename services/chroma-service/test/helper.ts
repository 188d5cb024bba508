import { mkdtempSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { THREADS_STREAM, ensureStream, subjects } from '@skein/bus'
import { buildService, loadConfig, signToken } from '@skein/kit'
import { ChromaServer, NatsServer, startServiceProcess, startSimulator } from '@skein/stack'
import type { ThreadRecord } from '@skein/schemas'
import app, { definition } from '../src/app.js'
import { ChromaServiceConfig } from '../src/config.js'

const tmp = (): string => mkdtempSync(join(tmpdir(), 'skein-chroma-'))

/** A NATS server and a Chroma server of the test's own. */
export async function backends (t: Test): Promise<{ nats: NatsServer, chroma: ChromaServer }> {
  const nats = await NatsServer.start({ dataDir: tmp() })
  t.teardown(() => nats.stop())
  const chroma = await ChromaServer.start({ dataDir: tmp() })
  t.teardown(() => chroma.kill()) // its data is a temporary directory: no need to wait for a graceful stop
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

/** The environment that points the chroma-service at these backends, embedding with the simulator. */
export function serviceEnv (natsUrl: string, chromaUrl: string, simulatorUrl: string): Record<string, string> {
  return { NATS_URL: natsUrl, CHROMA_URL: chromaUrl, OPENAI_BASE_URL: simulatorUrl, OPENAI_API_KEY: 'sim', MODEL_BACKEND: 'simulator' }
}

/** The real openai-service (built), on the simulator: tasks run to completion and publish their messages. */
export async function openaiService (t: Test, natsUrl: string, simulatorUrl: string): Promise<{ url: string, task: (text: string, user?: string) => Promise<ThreadRecord> }> {
  const service = await startServiceProcess({
    name: 'openai-service',
    entry: 'services/openai-service/dist/server.js',
    env: { NATS_URL: natsUrl, OPENAI_BASE_URL: simulatorUrl, OPENAI_API_KEY: 'sim', MODEL_BACKEND: 'simulator', JWT_SECRET: SECRET }
  })
  t.teardown(() => service.stop())
  const task = async (text: string, user = 'alice'): Promise<ThreadRecord> => {
    const headers = { ...auth(user), 'content-type': 'application/json' }
    const created = await (await fetch(`${service.url}/tasks`, { method: 'POST', headers, body: JSON.stringify({ task: text }) })).json() as ThreadRecord
    return await until(`task ${created.id} to finish`, async () => {
      const r = await (await fetch(`${service.url}/threads/${created.id}`, { headers })).json() as ThreadRecord
      return ['completed', 'failed', 'cancelled'].includes(r.status) ? r : null
    })
  }
  return { url: service.url, task }
}

export async function until<V> (what: string, probe: () => Promise<V | undefined | null | false>, timeoutMs = 30_000): Promise<V> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await probe().catch(() => null)
    if (v) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** A unit vector from the words of a text (each word hashed to a dimension): texts that share words are close. */
export function wordVector (text: string, dimensions: number): number[] {
  const v = new Array<number>(dimensions).fill(0)
  for (const word of text.toLowerCase().match(/[a-z]+/g) ?? []) {
    let h = 2166136261
    for (const c of word) h = Math.imul(h ^ c.charCodeAt(0), 16777619)
    v[(h >>> 0) % dimensions]! += 1
  }
  const norm = Math.hypot(...v) || 1
  return v.map((x) => x / norm)
}

/** What an embeddings stub answers one call with. */
export interface StubAnswer { status: number, json: unknown }

/**
 * A real HTTP server speaking OpenAI's `POST /v1/embeddings`, answering each call as `answer` says (other paths:
 * 404); its base URL ends in `/v1`, as OPENAI_BASE_URL does.
 */
export async function embeddingsStub (t: Test, answer: (call: { model: string, input: string[] }) => StubAnswer): Promise<string> {
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk: Buffer) => { body += chunk.toString() })
    req.on('end', () => {
      const { status, json } = req.method === 'POST' && req.url === '/v1/embeddings'
        ? answer(JSON.parse(body) as { model: string, input: string[] })
        : { status: 404, json: { error: { message: 'not found', type: 'invalid_request_error' } } }
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`
}

/** An embeddings answer of word vectors, as a backend gives it. */
export const embedded = (model: string, input: string[], dimensions: number): StubAnswer =>
  ({ status: 200, json: { object: 'list', model, data: input.map((x, index) => ({ object: 'embedding', index, embedding: wordVector(x, dimensions) })), usage: { prompt_tokens: 1, total_tokens: 1 } } })

/** A connection of the test's own to the thread log (SKEIN_THREADS, made if absent), as the threads engine writes it. */
export async function threadLog (t: Test, natsUrl: string): Promise<{ nc: NatsConnection, js: JetStreamClient, jsm: JetStreamManager }> {
  const nc = await connect({ servers: natsUrl })
  t.teardown(() => nc.close())
  const jsm = await jetstreamManager(nc)
  await ensureStream(jsm, { name: THREADS_STREAM, subjects: [subjects.allThreadEvents] })
  return { nc, js: jetstream(nc), jsm }
}
