import { createError } from '@skein/kit'

export const NoModelBackendError = createError('OPENAI_NO_BACKEND', 'No model backend is configured: set OPENAI_API_KEY or OPENAI_BASE_URL (or MODELS_CONFIG), or run `npm start`, which starts the offline simulator', 503)
export const UnknownModelError = createError<[string, string]>('OPENAI_UNKNOWN_MODEL', 'Unknown model "%s"; known models: %s', 400)
export const BackendRateLimitedError = createError<[string, string]>('OPENAI_BACKEND_RATE_LIMITED', 'The model backend %s is rate limiting (%s); retry later', 429)
export const BackendTimeoutError = createError<[string, string]>('OPENAI_BACKEND_TIMEOUT', 'The model backend %s did not answer in time: %s', 504)
export const BackendRejectedError = createError<[string, string]>('OPENAI_BACKEND_REJECTED', 'The model backend %s refused the request: %s', 400)
export const BackendError = createError<[string, string]>('OPENAI_BACKEND_ERROR', 'The model backend %s failed: %s', 502)
