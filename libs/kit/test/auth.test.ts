import { createHmac } from 'node:crypto'
import { test } from 'tap'
import { authPlugin, requestClaims, signToken, verifyToken } from '../src/index.js'
import { build } from './helper.js'

const secret = 's'.repeat(40)
const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url')
const forge = (header: unknown, payload: unknown, key = secret): string => {
  const input = `${b64(header)}.${b64(payload)}`
  return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`
}
const inAnHour = (): number => Math.floor(Date.now() / 1000) + 3600

test('a signed token verifies and names its user', async (t) => {
  const { token, claims } = signToken(secret, 'alice', 60)
  t.equal(claims.exp - claims.iat, 60)
  t.same(verifyToken(secret, token).sub, 'alice')
})

test('refused: alg none, another algorithm, a wrong signature, no exp, expired, garbage', async (t) => {
  const none = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'alice', exp: inAnHour() })}.`
  t.throws(() => verifyToken(secret, none), { code: 'AUTH_INVALID_TOKEN', statusCode: 401, message: /algorithm "none" is not accepted/ })
  t.throws(() => verifyToken(secret, forge({ alg: 'HS512' }, { sub: 'alice', exp: inAnHour() })), { message: /algorithm "HS512"/ })
  t.throws(() => verifyToken(secret, forge({ alg: 'HS256' }, { sub: 'alice', exp: inAnHour() }, 'x'.repeat(40))), { message: /bad signature/ })
  t.throws(() => verifyToken(secret, forge({ alg: 'HS256' }, { sub: 'alice' })), { message: /no expiry/ })
  t.throws(() => verifyToken(secret, forge({ alg: 'HS256' }, { sub: 'alice', exp: 1000 })), { code: 'AUTH_EXPIRED_TOKEN' })
  t.throws(() => verifyToken(secret, forge({ alg: 'HS256' }, { sub: '../x', exp: inAnHour() })), { message: /no valid user/ })
  t.throws(() => verifyToken(secret, 'a.b'), { message: /not a JWT/ })
  t.throws(() => verifyToken(secret, '!!!.@@@.###'), { message: /not a JWT/ })
})

test('the auth plugin: public paths are open, the rest needs a token (header, or ?token= on GET)', async (t) => {
  const app = await build(t, async (f) => {
    await f.register(authPlugin, { secret, publicPaths: ['/open', '/docs/*'] })
    f.get('/open', async (req) => ({ user: req.user }))
    f.get('/docs/*', async () => ({ docs: true }))
    f.get('/me', async (req) => ({ user: req.user }))
    f.post('/me', async (req) => ({ user: req.user }))
  })
  const { token } = signToken(secret, 'bob', 60)
  t.same((await app.inject({ url: '/open' })).json(), { user: null })
  const missing = await app.inject({ url: '/me' })
  t.equal(missing.statusCode, 401)
  t.equal(missing.json().error.code, 'AUTH_MISSING_TOKEN')
  t.same((await app.inject({ url: '/me', headers: { authorization: `Bearer ${token}` } })).json(), { user: 'bob' })
  t.same((await app.inject({ url: `/me?token=${token}` })).json(), { user: 'bob' })
  const postWithQuery = await app.inject({ method: 'POST', url: `/me?token=${token}` })
  t.equal(postWithQuery.statusCode, 401, '?token= only where browsers need it (GET)')
  const wrong = await app.inject({ url: '/me', headers: { authorization: 'Bearer nope' } })
  t.equal(wrong.json().error.code, 'AUTH_INVALID_TOKEN')
  const climbing = await app.inject({ url: '/docs/../me' })
  t.equal(climbing.statusCode, 401, 'a public prefix does not open a climbing path')
  const encoded = await app.inject({ url: '/docs/%2e%2e/me' })
  t.equal(encoded.statusCode, 401)
})

test('requestClaims verifies a request\'s token once, however many hooks ask', async (t) => {
  const seen: unknown[] = []
  const app = await build(t, async (f) => {
    // Before the auth plugin, as the funnel's rate limit asks.
    f.addHook('onRequest', async (req) => {
      try {
        seen.push(requestClaims(req, secret))
      } catch (err) {
        seen.push(err)
      }
    })
    await f.register(authPlugin, { secret, publicPaths: ['/open'] })
    f.get('/me', async (req) => ({ same: requestClaims(req, secret) === seen.at(-1), user: req.user }))
    f.get('/open', async (req) => ({ claims: requestClaims(req, secret) }))
  })
  const { token } = signToken(secret, 'carol', 60)
  t.same((await app.inject({ url: '/me', headers: { authorization: `Bearer ${token}` } })).json(), { same: true, user: 'carol' }, 'the route gets the claims the first hook verified')
  const bad = await app.inject({ url: '/me', headers: { authorization: 'Bearer a.b.c' } })
  t.equal(bad.json().error.code, 'AUTH_INVALID_TOKEN', 'a bad token is refused by the auth plugin')
  t.equal(bad.json().error.message, (seen.at(-1) as Error).message, 'with the error the first hook got')
  t.same((await app.inject({ url: '/open' })).json(), { claims: null }, 'no token: null, not an error')
})
