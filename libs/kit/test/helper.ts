import type { Test } from 'tap'
import type { FastifyInstance, FastifyPluginAsync } from 'fastify'
import { BaseConfig, buildService, loadConfig } from '../src/index.js'

/** A service built with the kit around `app`; closed when the test ends. */
export async function build (t: Test, app: FastifyPluginAsync, env: Record<string, string> = {}): Promise<FastifyInstance> {
  const config = loadConfig(BaseConfig, { LOG_LEVEL: 'silent', ...env })
  const fastify = await buildService({
    name: 'test-service',
    errorPrefix: 'TEST',
    version: '1.2.3',
    config,
    openapi: { title: 'Test', description: 'A test service', uiPath: '/docs', specPath: '/spec.json' }
  }, app)
  t.teardown(() => fastify.close())
  return fastify
}
