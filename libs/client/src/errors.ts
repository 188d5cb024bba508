/** Every error the SDK throws is a SkeinError. */
export class SkeinError extends Error {
  override name = 'SkeinError'
}

/**
 * The server refused: an HTTP error `{ error: { code, message } }`, or an `error` frame answering a WebSocket
 * request. `status` is the HTTP status (undefined over the socket); `requestId` is the `x-request-id` to quote.
 */
export class APIError extends SkeinError {
  override name = 'APIError'
  constructor (
    message: string,
    readonly code: string,
    readonly status: number | undefined,
    readonly requestId: string | undefined
  ) {
    super(message)
  }

  /** The error class for an HTTP status, from the body the server sent (or the status alone). */
  static fromResponse (status: number, body: unknown, requestId: string | undefined): APIError {
    const error = (body as { error?: { code?: unknown, message?: unknown } } | null)?.error
    const code = typeof error?.code === 'string' ? error.code : `HTTP_${status}`
    const message = typeof error?.message === 'string' ? error.message : `the server answered ${status}`
    const Class = status === 400
      ? BadRequestError
      : status === 401
        ? AuthenticationError
        : status === 403
          ? PermissionDeniedError
          : status === 404
            ? NotFoundError
            : status === 409
              ? ConflictError
              : status === 422
                ? UnprocessableEntityError
                : status === 429
                  ? RateLimitError
                  : status >= 500 ? InternalServerError : APIError
    return new Class(message, code, status, requestId)
  }
}

export class BadRequestError extends APIError { override name = 'BadRequestError' }
export class AuthenticationError extends APIError { override name = 'AuthenticationError' }
export class PermissionDeniedError extends APIError { override name = 'PermissionDeniedError' }
export class NotFoundError extends APIError { override name = 'NotFoundError' }
export class ConflictError extends APIError { override name = 'ConflictError' }
export class UnprocessableEntityError extends APIError { override name = 'UnprocessableEntityError' }
export class RateLimitError extends APIError { override name = 'RateLimitError' }
export class InternalServerError extends APIError { override name = 'InternalServerError' }

/** An `error` frame answering a WebSocket request (`FUNNEL_NOT_IN_ROOM`, `resume_gap`, a service's code…). */
export class RealtimeError extends APIError {
  override name = 'RealtimeError'
  constructor (message: string, code: string, requestId: string | undefined, readonly oldestSeq?: number) {
    super(message, code, undefined, requestId)
  }
}

/** The server could not be reached (or the connection broke before an answer). */
export class APIConnectionError extends SkeinError {
  override name = 'APIConnectionError'
  constructor (message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}

/** No answer within the timeout. */
export class APIConnectionTimeoutError extends APIConnectionError {
  override name = 'APIConnectionTimeoutError'
}

/**
 * The socket closed while a WebSocket request waited for its answer: it may or may not have been carried out.
 * The SDK never sends it again by itself (a message sent twice would be posted twice); a `message` carries a
 * client id that comes back on the replayed `new_message` (`clientId`) if it was stored.
 */
export class ConnectionLostError extends APIConnectionError {
  override name = 'ConnectionLostError'
}
