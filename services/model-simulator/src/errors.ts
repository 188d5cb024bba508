import { createError } from '@skein/kit'

// The simulator's own error codes (prefix SIM_), answered by the kit's error handler as
// `{ "error": { "code", "message" } }` with a 400.

/** An `x-sim-fault` header that does not follow the fault grammar. */
export const BadFault = createError('SIM_BAD_FAULT', 'Invalid x-sim-fault header: %s', 400)

/** A `tool_choice` naming a function that is not among the offered tools. */
export const UnknownTool = createError('SIM_UNKNOWN_TOOL', '%s', 400)

/** A response_format of type json_schema without its json_schema. */
export const MissingJsonSchema = createError('SIM_BAD_RESPONSE_FORMAT', 'response_format of type json_schema needs response_format.json_schema ({ name, schema })', 400)
