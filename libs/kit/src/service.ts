import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { IncomingMessage } from 'node:http'
import closeWithGrace from 'close-with-grace'
import fp from 'fastify-plugin'
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyServerOptions } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { Static, TObject, TProperties } from 'typebox'
import { ConfigError, loadConfig, trustProxy, type ServiceConfig } from './config.js'
import { installErrorHandling } from './errors.js'
import { healthPlugin } from './health.js'
import { openapiPlugin, type OpenApiOptions } from './openapi.js'

export const REQUEST_ID_HEADER = 'x-request-id'
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

export interface ServiceDefinition {
  /** The service's name in logs, health and OpenAPI, e.g. "openai-service". */
  name: string
  /** Prefix of the service's error codes, e.g. "FUNNEL" for FUNNEL_NOT_FOUND. */
  errorPrefix: string
  version: string
  config: ServiceConfig
  openapi?: OpenApiOptions
  /** Where `GET /health` answers (default ["/health"]). */
  healthPaths?: string[]
  /** Fastify factory options that win over the kit's (tests use it sparingly). */
  fastify?: Partial<FastifyServerOptions>
}


/** Reads `version` from the package.json one folder above a module in `src/` or `dist/`. */
export function packageVersion (moduleUrl: string): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', moduleUrl), 'utf8')) as { version?: string }
  return pkg.version ?? '0.0.0'
}

/** Drops secrets from a URL before it is logged (`?token=` is how browsers authenticate a WebSocket). */
export function redactUrl (url: string): string {
  return url.replace(/([?&](?:token|access_token|api_key|key)=)[^&#]*/gi, '$1[redacted]')
}

const redactedUrl = (url: unknown): unknown => (typeof url === 'string' ? redactUrl(url) : url)

function loggerOptions (name: string, level: string): FastifyServerOptions['logger'] {
  const pretty = process.stdout.isTTY && level !== 'silent'
  return {
    level,
    name,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'req.headers["x-api-key"]',
        'headers.authorization',
        'headers.cookie',
        'headers["x-api-key"]',
        'config.OPENAI_API_KEY',
        'config.JWT_SECRET',
        '*.apiKey'
      ],
      censor: '[redacted]'
    },
    serializers: {
      req (req: { method: string, url: string, hostname?: string, ip?: string }) {
        return { method: req.method, url: redactUrl(req.url), host: req.hostname, remoteAddress: req.ip }
      },
      // A URL logged under these keys, by the kit (a failed request's `url`) or a plugin (@fastify/websocket
      // logs an upgrade to a path with no WebSocket route as `path`), goes out without its token too.
      url: redactedUrl,
      path: redactedUrl
    },
    ...(pretty ? { transport: { target: createRequire(import.meta.url).resolve('pino-pretty'), options: { translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } } } : {})
  }
}

/** Request ids: the caller's `x-request-id` when it is sane, a new UUID otherwise; echoed on every reply. */
function genReqId (req: IncomingMessage): string {
  const given = req.headers[REQUEST_ID_HEADER]
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID()
}

/**
 * Builds a service: the Fastify instance with the kit's logger, request ids, timeouts, body limit, error
 * format, `/health` and OpenAPI, then the service's own plugin. Tests call this; `startService` listens.
 */
export async function buildService (def: ServiceDefinition, app: FastifyPluginAsync): Promise<FastifyInstance> {
  const { config } = def
  const fastify = Fastify({
    logger: loggerOptions(def.name, config.LOG_LEVEL),
    bodyLimit: config.BODY_LIMIT,
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    keepAliveTimeout: config.KEEP_ALIVE_TIMEOUT_MS,
    trustProxy: trustProxy(config.TRUST_PROXY),
    requestIdHeader: false,
    genReqId,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false, allErrors: false, strict: false } },
    ...def.fastify
  }).withTypeProvider<TypeBoxTypeProvider>()

  fastify.decorate('config', config)
  fastify.addHook('onRequest', async (request, reply) => {
    reply.header(REQUEST_ID_HEADER, request.id)
  })
  // Graceful shutdown: a response sent once close() has begun tells the client to drop its keep-alive connection;
  // otherwise close() (and the onClose hooks that drain NATS) waits for that idle connection's timeout.
  let closing = false
  fastify.addHook('preClose', async () => { closing = true })
  fastify.addHook('onSend', async (_request, reply) => { if (closing) reply.header('connection', 'close') })
  installErrorHandling(fastify, def.errorPrefix)

  // Tier 1: external plugins the kit owns (OpenAPI), then the kit's decorators (health).
  if (def.openapi) await fastify.register(openapiPlugin, { ...def.openapi, version: def.version })
  await fastify.register(healthPlugin, { service: def.name, version: def.version, timeoutMs: config.HEALTH_TIMEOUT_MS, paths: def.healthPaths ?? ['/health'] })
  // Tiers 2 and 3: the service's own decorators and routes, not encapsulated, so that tests and the
  // server see its decorators (`fastify.nats`, `fastify.openai`…) on the instance they hold.
  await fastify.register(fp(app, { name: `${def.name}/app` }))
  return fastify
}

export interface StartOptions<S extends TObject<TProperties>> extends Omit<ServiceDefinition, 'config'> {
  configSchema: S
}

/**
 * Validates the environment, builds the service, listens, and closes gracefully on SIGINT/SIGTERM (in-flight
 * requests finish, `onClose` hooks drain NATS) within SHUTDOWN_TIMEOUT_MS. A bad config exits with code 1.
 */
export async function startService<S extends TObject<TProperties>> (opts: StartOptions<S>, app: FastifyPluginAsync): Promise<FastifyInstance> {
  let config: Static<S> & ServiceConfig
  try {
    config = loadConfig(opts.configSchema) as Static<S> & ServiceConfig
    trustProxy(config.TRUST_PROXY) // its addresses are read here, so that a bad one stops the start like any bad value
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${opts.name}: ${err.message}\n`)
      process.exit(1)
    }
    throw err
  }
  const { configSchema: _schema, ...def } = opts
  const fastify = await buildService({ ...def, config }, app)
  closeWithGrace({ delay: config.SHUTDOWN_TIMEOUT_MS }, async ({ signal, err }) => {
    if (err) fastify.log.error({ err }, 'closing after an unexpected error')
    else fastify.log.info({ signal }, 'shutting down: finishing in-flight work')
    await fastify.close()
  })
  await fastify.listen({ host: config.HOST, port: config.PORT })
  return fastify
}
