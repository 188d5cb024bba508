import type { Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildService, loadConfig } from '@skein/kit'
import app, { definition } from '../src/app.js'
import { SimulatorConfig } from '../src/config.js'

/** Builds the simulator on a free loopback port; closed when the test ends. */
export async function build (t: Test, env: Record<string, string> = {}): Promise<{ app: FastifyInstance, url: string }> {
  const config = loadConfig(SimulatorConfig, { LOG_LEVEL: 'silent', PORT: '0', SIM_TOKENS_PER_SECOND: '0', ...env })
  const fastify = await buildService({ ...definition, version: 'test', config }, app)
  t.teardown(() => fastify.close())
  const address = await fastify.listen({ host: '127.0.0.1', port: 0 })
  return { app: fastify, url: address }
}
