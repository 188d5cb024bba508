import { createError } from '@skein/kit'

export const ThreadNotFoundError = createError<[string]>('THREADS_NOT_FOUND', 'No thread %s', 404)
export const ThreadClosedError = createError<[string, string]>('THREADS_CLOSED', 'Thread %s is closed (%s): it accepts no new messages or work; start a new task instead', 409)
export const MainThreadError = createError<[string]>('THREADS_MAIN_IS_PERMANENT', 'The main thread is never %s', 409)
export const BoundExceededError = createError<[string]>('THREADS_BOUND_EXCEEDED', 'Refused: %s', 422)
export const NotAConversationError = createError<[string, string]>('THREADS_NOT_A_CONVERSATION', 'Thread %s is a %s: its assistant works on its task and does not answer messages; ask in the main thread or a conversation room', 409)
export const StepTimeoutError = createError<[string]>('THREADS_STEP_TIMEOUT', 'Timed out: %s', 504)
