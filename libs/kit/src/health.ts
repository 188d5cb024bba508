import { hostname } from 'node:os'
import fp from 'fastify-plugin'
import { ServiceHealth, type DependencyHealth } from '@skein/schemas'

/** A readiness check of one dependency; it may throw, which counts as down with the error's message. */
export type HealthCheck = () => Promise<DependencyHealth> | DependencyHealth

export interface HealthRegistry {
  /** Adds a dependency to `GET /health`. */
  add: (name: string, check: HealthCheck) => void
  /** Runs every check (each bounded by the health timeout) and returns the report. */
  report: () => Promise<ServiceHealth>
}

declare module 'fastify' {
  interface FastifyInstance {
    health: HealthRegistry
  }
}

export interface HealthOptions {
  service: string
  version: string
  timeoutMs: number
  /** Where the report is served. */
  paths: string[]
}

function withTimeout (check: HealthCheck, timeoutMs: number): Promise<DependencyHealth> {
  const started = performance.now()
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<DependencyHealth>((resolve) => {
    timer = setTimeout(() => resolve({ status: 'down', message: `no answer within ${timeoutMs} ms` }), timeoutMs)
  })
  const run = Promise.resolve()
    .then(check)
    .then((r) => ({ latencyMs: Math.round(performance.now() - started), ...r }))
    .catch((err: unknown) => ({ status: 'down' as const, message: err instanceof Error ? err.message : String(err) }))
  return Promise.race([run, timeout]).finally(() => clearTimeout(timer))
}

/** `GET /health`: 200 with status "ok" when every dependency is up, 503 with status "degraded" naming what is down. */
export const healthPlugin = fp<HealthOptions>(async function health (fastify, opts) {
  const checks = new Map<string, HealthCheck>()
  const started = Date.now()
  const instance = `${hostname()}:${process.pid}`

  const registry: HealthRegistry = {
    add (name, check) {
      checks.set(name, check)
    },
    async report () {
      const entries = await Promise.all([...checks].map(async ([name, check]) => [name, await withTimeout(check, opts.timeoutMs)] as const))
      const dependencies = Object.fromEntries(entries)
      const up = entries.every(([, r]) => r.status === 'up')
      return {
        status: up ? 'ok' : 'degraded',
        service: opts.service,
        version: opts.version,
        instance,
        uptimeSeconds: Math.round((Date.now() - started) / 1000),
        dependencies
      }
    }
  }
  fastify.decorate('health', registry)

  for (const path of opts.paths) {
    fastify.get(path, {
      logLevel: 'warn',
      schema: {
        tags: ['health'],
        summary: 'Liveness and readiness of this service and each of its dependencies',
        response: { 200: ServiceHealth, 503: ServiceHealth }
      }
    }, async (_request, reply) => {
      const report = await registry.report()
      return reply.code(report.status === 'ok' ? 200 : 503).send(report)
    })
  }
}, { name: '@skein/kit/health', fastify: '5.x' })
