import createError from '@fastify/error'
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify'
import type { ErrorBody } from '@skein/schemas'

export { createError }

/** The shape Fastify's own errors and @fastify/error errors share. */
export type ServiceError = FastifyError & { headers?: Record<string, string> }

/** Maps Fastify's framework codes to the service's own, so clients see one family of codes. */
function codeFor (err: ServiceError, prefix: string, status: number): string {
  if (err.validation) return `${prefix}_VALIDATION`
  if (status === 413) return `${prefix}_PAYLOAD_TOO_LARGE`
  if (status === 415) return `${prefix}_UNSUPPORTED_MEDIA_TYPE`
  if (status >= 500) return err.code?.startsWith(`${prefix}_`) ? err.code : `${prefix}_INTERNAL`
  if (!err.code || err.code.startsWith('FST_')) return `${prefix}_BAD_REQUEST`
  return err.code
}

/**
 * What a failed request is answered with: `{ "error": { "code", "message" } }` and its status. 4xx name the
 * failing field (Fastify's validation messages do, e.g. "body/task must NOT have fewer than 1 characters");
 * 5xx are logged in full and answered without internals.
 */
export function errorResponse (err: ServiceError, request: FastifyRequest, prefix: string): { status: number, body: ErrorBody } {
  const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500
  const code = codeFor(err, prefix, status)
  if (status >= 500) {
    request.log.error({ err, method: request.method, url: request.url }, 'request failed')
    const exposed = err.code?.startsWith(`${prefix}_`) === true
    return { status, body: { error: { code, message: exposed ? err.message : `Internal error; quote request id ${request.id} when reporting it` } } }
  }
  request.log.info({ code, message: err.message }, 'request refused')
  return { status, body: { error: { code, message: err.message } } }
}

/** The one error handler and the 404 handler, in the one error format. */
export function installErrorHandling (fastify: FastifyInstance, prefix: string): void {
  fastify.setErrorHandler<ServiceError>(function (err, request, reply) {
    const { status, body } = errorResponse(err, request, prefix)
    if (err.headers) reply.headers(err.headers)
    return reply.code(status).send(body)
  })

  fastify.setNotFoundHandler(function (request, reply) {
    const body: ErrorBody = { error: { code: `${prefix}_NOT_FOUND`, message: `Route ${request.method} ${request.url.split('?')[0]} not found` } }
    return reply.code(404).send(body)
  })
}
