import { test } from 'tap'
import { Type } from 'typebox'
import { BaseConfig, ConfigError, loadConfig, trustProxy } from '../src/index.js'

const Schema = Type.Object({
  ...BaseConfig.properties,
  UPSTREAM_URL: Type.String({ pattern: '^https?://' }),
  LIMIT: Type.Integer({ minimum: 1, default: 8 })
})

test('defaults fill what the environment leaves out, and strings are coerced', async (t) => {
  const config = loadConfig(Schema, { UPSTREAM_URL: 'http://x', PORT: '9000', LIMIT: '3' })
  t.equal(config.PORT, 9000)
  t.equal(config.LIMIT, 3)
  t.equal(config.HOST, '127.0.0.1')
  t.equal(config.LOG_LEVEL, 'info')
  t.equal(config.NATS_URL, 'nats://127.0.0.1:4222')
})

test('a bad value stops with a message that names each variable', async (t) => {
  const err = t.throws(() => loadConfig(Schema, { PORT: 'eighty', LOG_LEVEL: 'loud', LIMIT: '0' })) as ConfigError
  t.ok(err instanceof ConfigError)
  t.same(err.variables.sort(), ['LIMIT', 'LOG_LEVEL', 'PORT', 'UPSTREAM_URL'])
  t.match(err.message, /PORT must be integer \(got "eighty"\)/)
  t.match(err.message, /LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent \(got "loud"\)/)
  t.match(err.message, /UPSTREAM_URL is required but not set/)
  t.match(err.message, /LIMIT must be >= 1/)
})

test('a pattern mismatch names the variable', async (t) => {
  t.throws(() => loadConfig(Schema, { UPSTREAM_URL: 'ftp://x' }), { message: /UPSTREAM_URL must match pattern/ })
})

test('empty strings count as unset', async (t) => {
  const config = loadConfig(Schema, { UPSTREAM_URL: 'http://x', PORT: '' })
  t.equal(config.PORT, 8001)
})

test('TRUST_PROXY: off when empty, or the proxies\' addresses; anything else (a hop count too) names the variable', async (t) => {
  t.equal(trustProxy(''), false)
  t.same(trustProxy('loopback, 10.0.0.0/8,192.168.1.7, fd00::/8'), ['loopback', '10.0.0.0/8', '192.168.1.7', 'fd00::/8'])
  for (const bad of ['true', '2', '10.0.0.0/33', '10.0.0.1/8/8', 'proxy.example']) {
    const err = t.throws(() => trustProxy(bad), `"${bad}" is refused`) as ConfigError
    t.same(err.variables, ['TRUST_PROXY'])
    t.match(err.message, new RegExp(`names "${bad.replace(/[./]/g, '\\$&')}", which is not an IP address`))
  }
  t.throws(() => loadConfig(Schema, { UPSTREAM_URL: 'http://x', TRUST_PROXY: '10.0.0.1; rm -rf /' }), { message: /TRUST_PROXY must match pattern/ })
})
