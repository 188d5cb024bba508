import { Type, type Static } from 'typebox'

/**
 * The error body of the simulator's `/v1` routes: OpenAI's shape, `{ error: { message, type, code, param } }`.
 * It is a superset of Skein's `{ error: { code, message } }`, which the kit's error handler answers for
 * validation errors, so one schema describes both.
 */
export const OpenAIError = Type.Object({
  error: Type.Object({
    message: Type.String(),
    type: Type.Optional(Type.String({ examples: ['invalid_request_error', 'rate_limit_error', 'server_error'] })),
    code: Type.Union([Type.String(), Type.Null()]),
    param: Type.Optional(Type.Union([Type.String(), Type.Null()]))
  })
}, { title: 'OpenAIError', description: 'OpenAI-shaped error; validation errors carry only code and message' })
export type OpenAIError = Static<typeof OpenAIError>

/** Response schemas for every error status a `/v1` route can answer, faults included. */
export const errorResponses = { '4xx': OpenAIError, '5xx': OpenAIError } as const

const KINDS: Record<number, { type: string, code: string }> = {
  400: { type: 'invalid_request_error', code: 'invalid_request' },
  401: { type: 'authentication_error', code: 'invalid_api_key' },
  403: { type: 'permission_error', code: 'permission_denied' },
  404: { type: 'invalid_request_error', code: 'not_found' },
  408: { type: 'timeout_error', code: 'request_timeout' },
  409: { type: 'conflict_error', code: 'conflict' },
  422: { type: 'invalid_request_error', code: 'unprocessable_entity' },
  429: { type: 'rate_limit_error', code: 'rate_limit_exceeded' },
  500: { type: 'server_error', code: 'server_error' },
  502: { type: 'server_error', code: 'bad_gateway' },
  503: { type: 'server_error', code: 'service_unavailable' },
  504: { type: 'server_error', code: 'gateway_timeout' }
}

/** An OpenAI-shaped error body for an HTTP status, with the type and code OpenAI uses for it. */
export function openaiError (status: number, message: string, code?: string, param: string | null = null): OpenAIError {
  const kind = KINDS[status] ?? (status >= 500 ? { type: 'server_error', code: 'server_error' } : { type: 'invalid_request_error', code: 'invalid_request' })
  return { error: { message, type: kind.type, code: code ?? kind.code, param } }
}

/** The 404 for a model the simulator does not serve. */
export function modelNotFound (model: string, served: string[]): OpenAIError {
  return openaiError(404, `The model '${model}' does not exist; the simulator serves ${served.join(', ')}`, 'model_not_found', 'model')
}
