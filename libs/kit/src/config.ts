import { isIP } from 'node:net'
import { Ajv, type ErrorObject } from 'ajv'
import { Type, type Static, type TObject, type TProperties } from 'typebox'

/**
 * Settings every service shares. A service's own schema spreads these properties beside its own:
 * `Type.Object({ ...BaseConfig.properties, CHROMA_URL: … })`. Keys are the environment variable names.
 */
export const BaseConfig = Type.Object({
  HOST: Type.String({ default: '127.0.0.1', description: 'Address to listen on' }),
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8001, description: 'Port to listen on (0 picks a free one)' }),
  LOG_LEVEL: Type.Union(
    [Type.Literal('fatal'), Type.Literal('error'), Type.Literal('warn'), Type.Literal('info'), Type.Literal('debug'), Type.Literal('trace'), Type.Literal('silent')],
    { default: 'info', description: 'pino log level' }
  ),
  NATS_URL: Type.String({ minLength: 1, default: 'nats://127.0.0.1:4222', description: 'NATS server(s) with JetStream, comma separated' }),
  NATS_CONNECT_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 10_000, description: 'How long to keep trying the first NATS connection before giving up' }),
  BODY_LIMIT: Type.Integer({ minimum: 1024, default: 1_048_576, description: 'Largest accepted request body, in bytes' }),
  REQUEST_TIMEOUT_MS: Type.Integer({ minimum: 0, default: 30_000, description: 'Time allowed to receive a whole request (headers and body)' }),
  KEEP_ALIVE_TIMEOUT_MS: Type.Integer({ minimum: 0, default: 72_000, description: 'Idle keep-alive connections close after this' }),
  HEALTH_TIMEOUT_MS: Type.Integer({ minimum: 50, default: 2_000, description: 'Time allowed to each dependency check of /health' }),
  SHUTDOWN_TIMEOUT_MS: Type.Integer({ minimum: 0, default: 10_000, description: 'Time allowed to finish in-flight work on SIGTERM/SIGINT before exiting' }),
  TRUST_PROXY: Type.String({
    default: '',
    pattern: '^\\s*([0-9A-Za-z.:/]+(\\s*,\\s*[0-9A-Za-z.:/]+)*)?\\s*$',
    description: 'The reverse proxies in front of this service, whose X-Forwarded-For is believed: their addresses or CIDR ranges (or loopback, linklocal, uniquelocal), comma separated. Empty: the connection\'s own address is the client\'s'
  })
})
export type BaseConfig = Static<typeof BaseConfig>

/**
 * TRUST_PROXY as Fastify's `trustProxy`: false when empty, else the proxies' addresses. Neither "trust every
 * sender" nor a hop count is offered: with either, a client that reaches the service directly could name any
 * address in X-Forwarded-For and escape its per-address limits.
 */
export function trustProxy (value: string): false | string[] {
  const v = value.trim()
  if (v === '') return false
  const proxies = v.split(',').map((s) => s.trim()).filter(Boolean)
  for (const p of proxies) {
    const [address = '', bits, ...rest] = p.split('/')
    const version = isIP(address)
    const range = bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (version === 4 ? 32 : 128))
    if (!(NAMED_RANGES.has(p) || (version !== 0 && range && rest.length === 0))) {
      throw new ConfigError([{ variable: 'TRUST_PROXY', problem: `names "${p}", which is not an IP address, a CIDR range (10.0.0.0/8), loopback, linklocal or uniquelocal` }])
    }
  }
  return proxies
}
const NAMED_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal'])

/**
 * The type of `fastify.config`. Each service merges its own settings in:
 * `declare module '@skein/kit' { interface ServiceConfig extends Static<typeof FunnelConfig> {} }`.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface ServiceConfig extends BaseConfig {}

declare module 'fastify' {
  interface FastifyInstance {
    config: ServiceConfig
  }
}

/** A bad configuration value: the message names every failing variable and says what it must be. */
export class ConfigError extends Error {
  readonly variables: string[]
  constructor (problems: Array<{ variable: string, problem: string }>) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p.variable} ${p.problem}`).join('\n')}\nFix the environment variable(s) above and start again.`)
    this.name = 'ConfigError'
    this.variables = problems.map((p) => p.variable)
  }
}

const ajv = new Ajv({ allErrors: true, coerceTypes: true, useDefaults: true, strict: false })

function describe (err: ErrorObject, schema: TObject<TProperties>, env: Record<string, unknown>): { variable: string, problem: string } {
  if (err.keyword === 'required') {
    return { variable: String(err.params.missingProperty), problem: 'is required but not set' }
  }
  const variable = err.instancePath.replace(/^\//, '').split('/')[0] ?? '(root)'
  const choices = (schema.properties[variable] as { anyOf?: Array<{ const?: unknown }> } | undefined)?.anyOf
  const problem = choices && choices.every((c) => c.const !== undefined)
    ? `must be one of ${choices.map((c) => String(c.const)).join(', ')}`
    : err.message ?? 'is invalid'
  return { variable, problem: `${problem} (got ${JSON.stringify(env[variable])})` }
}

/**
 * Validates configuration once, before any instance exists: coerces strings from the environment into the
 * schema's types and fills defaults. Throws a ConfigError naming each bad variable.
 */
export function loadConfig<T extends TObject<TProperties>> (schema: T, env: Record<string, string | undefined> = process.env): Static<T> {
  const keys = Object.keys(schema.properties)
  const picked: Record<string, unknown> = {}
  for (const key of keys) {
    const value = env[key]
    if (value !== undefined && value !== '') picked[key] = value
  }
  const validate = ajv.compile(schema)
  if (!validate(picked)) {
    const seen = new Set<string>()
    const problems = (validate.errors ?? [])
      .map((e) => describe(e, schema, picked))
      .filter((p) => (seen.has(p.variable) ? false : (seen.add(p.variable), true)))
    throw new ConfigError(problems)
  }
  return picked as Static<T>
}
