import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { getJson } from '@skein/kit'
import { Value } from 'typebox/value'
import { ServiceHealth, StackHealth, type DependencyHealth } from '@skein/schemas'

/**
 * `GET /health`: the whole stack as the edge sees it — the funnel itself, both services, NATS and the Chroma
 * server (as the chroma-service reports it). 200 when all are up, 503 with `down` naming the rest.
 */
const health: FastifyPluginAsyncTypebox = async (fastify) => {
  const { OPENAI_SERVICE_URL, CHROMA_SERVICE_URL, HEALTH_TIMEOUT_MS } = fastify.config

  /**
   * A service's own `/health`. Whatever else answers there (another API's `{"status":"ok"}`, a web page: a wrong
   * URL in the config) counts as down, naming the setting to check.
   */
  async function service (url: string, variable: string, requestId: string): Promise<{ check: DependencyHealth, report?: ServiceHealth }> {
    try {
      const res = await getJson<unknown>(`${url}/health`, { requestId, timeoutMs: HEALTH_TIMEOUT_MS })
      if (!Value.Check(ServiceHealth, res.body)) {
        // A service starting or shutting down answers 503 before its health route is there, or after it is gone.
        const message = res.status === 503
          ? `${url} answered 503 without its health: it may be starting or shutting down; if that lasts, check ${variable}`
          : `${url} answered ${res.status}, but not with a Skein service's health: check ${variable}`
        return { check: { status: 'down', latencyMs: res.latencyMs, message } }
      }
      const report = res.body
      const down = Object.entries(report.dependencies).filter(([, d]) => d.status !== 'up').map(([n]) => n)
      return {
        check: {
          status: res.status === 200 && report.status === 'ok' ? 'up' : 'down',
          latencyMs: res.latencyMs,
          ...(down.length ? { message: `dependencies down: ${down.join(', ')}` } : {}),
          details: { version: report.version, instance: report.instance, dependencies: report.dependencies }
        },
        report
      }
    } catch (err) {
      const timedOut = err instanceof Error && err.name === 'TimeoutError'
      const notJson = err instanceof SyntaxError
      return { check: { status: 'down', message: timedOut ? `no answer within ${HEALTH_TIMEOUT_MS} ms` : notJson ? `${url} answered, but not with JSON: check ${variable}` : 'not reachable' } }
    }
  }

  fastify.get('/health', {
    logLevel: 'warn',
    schema: {
      tags: ['health'],
      summary: 'Health of the whole stack: funnel, openai-service, chroma-service, NATS and Chroma; realtime counts cluster-wide',
      response: { 200: StackHealth, 503: StackHealth }
    }
  }, async (request, reply) => {
    const [self, openai, chroma, realtime] = await Promise.all([
      fastify.health.report(),
      service(OPENAI_SERVICE_URL, 'OPENAI_SERVICE_URL', request.id),
      service(CHROMA_SERVICE_URL, 'CHROMA_SERVICE_URL', request.id),
      fastify.realtime.stats()
    ])
    const nats = self.dependencies.nats ?? { status: 'down' as const, message: 'not checked' }
    const chromadb = chroma.report?.dependencies.chromadb ?? { status: 'down' as const, message: 'unknown: the chroma-service is not reachable' }
    const services = {
      funnel: { status: 'up' as const, details: { version: self.version, instance: self.instance } },
      openai: openai.check,
      chroma: chroma.check,
      nats,
      chromadb
    }
    const down = Object.entries(services).filter(([, s]) => s.status !== 'up').map(([n]) => n)
    return reply.code(down.length ? 503 : 200).send({ status: down.length ? 'degraded' : 'ok', down, services, realtime })
  })
}
export default health
