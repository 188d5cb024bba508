import { createHmac, timingSafeEqual } from 'node:crypto'
import fp from 'fastify-plugin'
import type { FastifyRequest } from 'fastify'
import { Type } from 'typebox'
import { createError } from './errors.js'

/** Settings of every service that checks tokens; spread beside BaseConfig's. */
export const AuthConfig = Type.Object({
  JWT_SECRET: Type.String({ minLength: 32, description: 'HS256 secret shared by every service (npm start makes one in .data/jwt-secret)' }),
  AUTH_TOKEN_TTL_S: Type.Integer({ minimum: 60, default: 86_400, description: 'Lifetime of tokens issued by POST /auth/token' }),
  AUTH_DEV_LOGIN: Type.Boolean({ default: false, description: 'POST /auth/token { user } issues a token without a password: for the local stack (npm start turns it on), never a deployment' })
})

export const USER_NAME = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'
const USER = new RegExp(USER_NAME)
/** The name Skein's own services act under between themselves (over NATS); no token may carry it. */
export const SYSTEM_USER = 'skein'

export const MissingTokenError = createError('AUTH_MISSING_TOKEN', 'A Skein token is required: send "Authorization: Bearer <token>" (get one from POST /auth/token)', 401)
export const InvalidTokenError = createError<[string]>('AUTH_INVALID_TOKEN', 'The token is not valid: %s', 401)
export const ExpiredTokenError = createError('AUTH_EXPIRED_TOKEN', 'The token has expired: get a new one from POST /auth/token', 401)

export interface TokenClaims {
  /** The user name. */
  sub: string
  iat: number
  exp: number
}

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url')
const HEADER = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))

function signature (secret: string, signingInput: string): Buffer {
  return createHmac('sha256', secret).update(signingInput).digest()
}

/** An HS256 JWT for `user`, valid for `ttlSeconds`. */
export function signToken (secret: string, user: string, ttlSeconds: number, now = Date.now()): { token: string, claims: TokenClaims } {
  const iat = Math.floor(now / 1000)
  const claims: TokenClaims = { sub: user, iat, exp: iat + ttlSeconds }
  const input = `${HEADER}.${b64url(JSON.stringify(claims))}`
  return { token: `${input}.${b64url(signature(secret, input))}`, claims }
}

function parseJson (part: string): Record<string, unknown> {
  const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'))
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object')
  return value as Record<string, unknown>
}

/**
 * Verifies an HS256 JWT: the algorithm is pinned (`none` and every other one are refused), the signature is
 * compared in constant time, `exp` is required and enforced, `sub` must be a user name.
 */
export function verifyToken (secret: string, token: string, now = Date.now()): TokenClaims {
  const parts = token.split('.')
  if (parts.length !== 3) throw new InvalidTokenError('it is not a JWT')
  const [h, p, s] = parts as [string, string, string]
  let header: Record<string, unknown>
  let payload: Record<string, unknown>
  try {
    header = parseJson(h)
    payload = parseJson(p)
  } catch {
    throw new InvalidTokenError('it is not a JWT')
  }
  if (header.alg !== 'HS256') throw new InvalidTokenError(`algorithm ${JSON.stringify(header.alg)} is not accepted`)
  const expected = signature(secret, `${h}.${p}`)
  const given = Buffer.from(s, 'base64url')
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new InvalidTokenError('bad signature')
  if (typeof payload.exp !== 'number') throw new InvalidTokenError('it has no expiry (exp)')
  if (typeof payload.sub !== 'string' || !USER.test(payload.sub)) throw new InvalidTokenError('it names no valid user (sub)')
  if (payload.sub === SYSTEM_USER) throw new InvalidTokenError(`"${SYSTEM_USER}" is reserved for Skein's own services`)
  const seconds = now / 1000
  if (seconds >= payload.exp) throw new ExpiredTokenError()
  if (typeof payload.nbf === 'number' && seconds + 5 < payload.nbf) throw new InvalidTokenError('it is not valid yet (nbf)')
  return { sub: payload.sub, iat: typeof payload.iat === 'number' ? payload.iat : 0, exp: payload.exp }
}

/** The token of a request: the Bearer header, or `?token=` where browsers cannot set headers (GET only). */
export function requestToken (request: FastifyRequest): string | undefined {
  const header = request.headers.authorization
  if (typeof header === 'string') {
    const m = /^Bearer\s+(\S+)$/i.exec(header)
    return m?.[1]
  }
  if (request.method === 'GET') {
    const q = (request.query as Record<string, unknown> | undefined)?.token
    if (typeof q === 'string' && q) return q
  }
  return undefined
}

const verified = new WeakMap<FastifyRequest, TokenClaims | null | Error>()

/**
 * The request's token, verified once however many hooks ask (the funnel's rate limit, the auth plugin and its
 * WebSocket route all do): its claims, or null when it carries none; a bad token throws what `verifyToken` throws.
 */
export function requestClaims (request: FastifyRequest, secret: string): TokenClaims | null {
  let result = verified.get(request)
  if (result === undefined) {
    const token = requestToken(request)
    try {
      result = token ? verifyToken(secret, token) : null
    } catch (err) {
      result = err as Error
    }
    verified.set(request, result)
  }
  if (result instanceof Error) throw result
  return result
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated user's name; null on public routes. */
    user: string | null
  }
}

export interface AuthPluginOptions {
  secret: string
  /** Paths open without a token: exact, or a prefix when ending in `*`. */
  publicPaths: string[]
}

/** Every route needs a valid token except the public ones; `request.user` names who is calling. */
export const authPlugin = fp<AuthPluginOptions>(async function auth (fastify, opts) {
  const exact = new Set(opts.publicPaths.filter((p) => !p.endsWith('*')))
  const prefixes = opts.publicPaths.filter((p) => p.endsWith('*')).map((p) => p.slice(0, -1))
  // A path that climbs (`..`, also percent-encoded) is never public, whatever it starts with.
  const isPublic = (path: string): boolean => !/\.\.|%2e|%2f|\\/i.test(path) && (exact.has(path) || prefixes.some((p) => path.startsWith(p)))

  fastify.decorateRequest('user', null)
  fastify.addHook('onRequest', async (request) => {
    const path = request.url.split('?')[0] ?? '/'
    if (request.method === 'OPTIONS' || isPublic(path)) return
    const claims = requestClaims(request, opts.secret)
    if (!claims) throw new MissingTokenError()
    request.user = claims.sub
  })
}, { name: '@skein/kit/auth', fastify: '5.x' })
