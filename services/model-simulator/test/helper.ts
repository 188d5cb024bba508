import type { Test } from 'tap'
import type { FastifyInstance, FastifyServerOptions } from 'fastify'
import OpenAI, { type ClientOptions } from 'openai'
import { buildService, loadConfig } from '@skein/kit'
import app, { definition } from '../src/app.js'
import { SimulatorConfig } from '../src/config.js'

/**
 * Builds the simulator on a free loopback port; closed when the test ends. `fastify` options are for the
 * few tests whose clients leave connections behind (after an abort, undici opens a spare one that it keeps
 * for its 4 s keep-alive, which a graceful close would wait for).
 */
export async function build (t: Test, env: Record<string, string> = {}, fastifyOptions: Partial<FastifyServerOptions> = {}): Promise<{ app: FastifyInstance, url: string }> {
  const config = loadConfig(SimulatorConfig, { LOG_LEVEL: 'silent', PORT: '0', SIM_TOKENS_PER_SECOND: '0', ...env })
  const fastify = await buildService({ ...definition, version: 'test', config, fastify: fastifyOptions }, app)
  t.teardown(() => fastify.close())
  const address = await fastify.listen({ host: '127.0.0.1', port: 0 })
  return { app: fastify, url: address }
}

/** The official OpenAI SDK pointed at a simulator, without retries unless asked. */
export function sdk (url: string, options: ClientOptions = {}): OpenAI {
  return new OpenAI({ baseURL: `${url}/v1`, apiKey: 'sk-simulated', maxRetries: 0, ...options })
}
