import { createError } from '@skein/kit'

export const NoModelBackendError = createError('OPENAI_NO_BACKEND', 'No model backend is configured: set OPENAI_API_KEY or OPENAI_BASE_URL, or run `npm start`, which starts the offline simulator', 503)
