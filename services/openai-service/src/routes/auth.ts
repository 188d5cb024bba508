import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { SYSTEM_USER, USER_NAME, createError, signToken } from '@skein/kit'
import { ErrorBody } from '@skein/schemas'

const DevLoginDisabledError = createError('AUTH_DEV_LOGIN_DISABLED', 'The dev login is off (AUTH_DEV_LOGIN=false): tokens come from your identity provider, signed with JWT_SECRET', 403)
const ReservedUserError = createError<[string]>('AUTH_RESERVED_USER', '"%s" is reserved for Skein\'s own services: pick another name', 400)

/** `POST /auth/token { user }`: the local stack's dev login, on unless AUTH_DEV_LOGIN=false. */
const auth: FastifyPluginAsyncTypebox = async (fastify) => {
  const { JWT_SECRET, AUTH_TOKEN_TTL_S, AUTH_DEV_LOGIN } = fastify.config
  fastify.post('/auth/token', {
    schema: {
      tags: ['auth'],
      summary: 'Dev login: a Skein token (HS256 JWT) for a user name, no password',
      body: Type.Object({ user: Type.String({ pattern: USER_NAME, examples: ['alice'], description: 'Letters, digits, _ . -; up to 64' }) }, { additionalProperties: false }),
      response: {
        200: Type.Object({ token: Type.String(), user: Type.String(), expiresAt: Type.String({ format: 'date-time' }) }, {
          examples: [{
            token: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhbGljZSIsImlhdCI6MTc2NDAwMDAwMCwiZXhwIjoxNzY0MDg2NDAwfQ.bJ0yJ0rOe9Qz3qHq3nT0mJm0k2m4x8c1VvW7yZQv2uE',
            user: 'alice',
            expiresAt: '2025-11-25T16:00:00.000Z'
          }]
        }),
        400: ErrorBody,
        403: ErrorBody
      }
    }
  }, async (request) => {
    if (!AUTH_DEV_LOGIN) throw new DevLoginDisabledError()
    if (request.body.user === SYSTEM_USER) throw new ReservedUserError(SYSTEM_USER)
    const { token, claims } = signToken(JWT_SECRET, request.body.user, AUTH_TOKEN_TTL_S)
    return { token, user: claims.sub, expiresAt: new Date(claims.exp * 1000).toISOString() }
  })
}
export default auth
