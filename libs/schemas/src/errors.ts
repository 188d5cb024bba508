import { Type, type Static } from 'typebox'

/** The one error body every Skein HTTP service answers with, for 4xx and 5xx alike. */
export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable machine-readable code, prefixed by the service (FUNNEL_, THREADS_, MEMORY_…)', examples: ['FST_ERR_VALIDATION'] }),
      message: Type.String({ description: 'What went wrong and, where it helps, what to do next', examples: ['body/task must NOT have fewer than 1 characters'] })
    })
  },
  { title: 'ErrorBody', description: 'Error response shared by every Skein service' }
)
export type ErrorBody = Static<typeof ErrorBody>
