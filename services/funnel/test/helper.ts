import { mkdtempSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildService, loadConfig, signToken } from '@skein/kit'
import { NatsServer, startServiceProcess, startSimulator } from '@skein/stack'
import app, { definition } from '../src/app.js'
import { FunnelConfig } from '../src/config.js'

export interface Upstream {
  url: string
  server: Server
  /** Every request it received: method, url, headers. */
  seen: Array<{ method: string, url: string, headers: IncomingMessage['headers'] }>
  close: () => Promise<void>
}

/** A real HTTP server standing in for a service behind the funnel. */
export async function upstream (t: Test, name: string, handler?: (req: IncomingMessage, res: ServerResponse) => boolean): Promise<Upstream> {
  const seen: Upstream['seen'] = []
  const server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers })
    if (handler?.(req, res)) return
    if (req.url === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ status: 'ok', service: name, version: '0', instance: 'x', uptimeSeconds: 1, dependencies: { nats: { status: 'up' }, ...(name === 'chroma-service' ? { chromadb: { status: 'up' } } : {}) } }))
      return
    }
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ upstream: name, url: req.url }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const close = (): Promise<void> => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()) })
  t.teardown(close)
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, seen, close }
}

/** A NATS server of the test's own. */
export async function nats (t: Test): Promise<NatsServer> {
  const server = await NatsServer.start({ dataDir: mkdtempSync(join(tmpdir(), 'skein-funnel-')) })
  t.teardown(() => server.stop())
  return server
}

export const SECRET = 'funnel-test-secret-0123456789abcdef0123'

/** Headers carrying a valid token for `user`. */
export function auth (user = 'alice'): Record<string, string> {
  return { authorization: `Bearer ${signToken(SECRET, user, 600).token}` }
}

/** The funnel, listening on a free loopback port, in front of the given upstreams. */
export async function build (t: Test, env: Record<string, string>): Promise<{ app: FastifyInstance, url: string }> {
  const config = loadConfig(FunnelConfig, { LOG_LEVEL: 'silent', JWT_SECRET: SECRET, ...env })
  const fastify = await buildService({ ...definition, version: 'test', config }, app)
  t.teardown(() => fastify.close())
  const url = await fastify.listen({ host: '127.0.0.1', port: 0 })
  return { app: fastify, url }
}

/** The threads engine behind the funnel: the model simulator and a real openai-service process, on `natsUrl`. */
export async function threadsEngine (t: Test, natsUrl: string, simEnv: Record<string, string> = {}): Promise<{ url: string, sim: string }> {
  const sim = await startSimulator(simEnv)
  t.teardown(() => sim.stop())
  const svc = await startServiceProcess({
    name: 'openai-service',
    entry: 'services/openai-service/dist/server.js',
    env: { NATS_URL: natsUrl, OPENAI_BASE_URL: sim.url, OPENAI_API_KEY: 'sim', MODEL_BACKEND: 'simulator', JWT_SECRET: SECRET }
  })
  t.teardown(() => svc.stop())
  return { url: svc.url, sim: sim.url }
}

/** A token for `user`, valid for `ttl` seconds. */
export function token (user = 'alice', ttl = 600): string {
  return signToken(SECRET, user, ttl).token
}
