import { Type, type Static } from 'typebox'
import { ChatCompletionRequest } from '@skein/schemas'

// The chat request as the simulator reads it: the shared ChatCompletionRequest with response_format, tools
// and tool_choice described precisely (the shared schema leaves them open, the simulator acts on them).

export const JsonSchemaSpec = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-zA-Z0-9_-]+$' }),
  description: Type.Optional(Type.String()),
  schema: Type.Optional(Type.Object({}, { additionalProperties: true, description: 'A JSON Schema' })),
  strict: Type.Optional(Type.Union([Type.Boolean(), Type.Null()]))
}, { additionalProperties: true, title: 'JsonSchemaSpec' })

/** `{ type: 'text' }`, `{ type: 'json_object' }` or `{ type: 'json_schema', json_schema: { name, schema } }`. */
export const ResponseFormat = Type.Object({
  type: Type.Union([Type.Literal('text'), Type.Literal('json_object'), Type.Literal('json_schema')]),
  json_schema: Type.Optional(JsonSchemaSpec)
}, { additionalProperties: true, title: 'ResponseFormat' })
export type ResponseFormat = Static<typeof ResponseFormat>

export const FunctionDefinition = Type.Object({
  name: Type.String({ pattern: '^[a-zA-Z0-9_-]{1,64}$' }),
  description: Type.Optional(Type.String()),
  parameters: Type.Optional(Type.Object({}, { additionalProperties: true, description: 'A JSON Schema for the arguments' })),
  strict: Type.Optional(Type.Union([Type.Boolean(), Type.Null()]))
}, { additionalProperties: true, title: 'FunctionDefinition' })
export type FunctionDefinition = Static<typeof FunctionDefinition>

/** A tool offered to the model; only `function` tools can be called by the simulator. */
export const Tool = Type.Object({
  type: Type.String({ examples: ['function'] }),
  function: Type.Optional(FunctionDefinition)
}, { additionalProperties: true, title: 'Tool' })

export const ToolChoice = Type.Union([
  Type.Literal('none'),
  Type.Literal('auto'),
  Type.Literal('required'),
  Type.Object({ type: Type.Literal('function'), function: Type.Object({ name: Type.String({ minLength: 1 }) }) }),
  Type.Null()
], { title: 'ToolChoice' })
export type ToolChoice = Static<typeof ToolChoice>

export const SimChatRequest = Type.Object({
  ...ChatCompletionRequest.properties,
  response_format: Type.Optional(Type.Union([ResponseFormat, Type.Null()])),
  tools: Type.Optional(Type.Array(Tool)),
  tool_choice: Type.Optional(ToolChoice)
}, { additionalProperties: true, title: 'SimChatRequest' })
export type SimChatRequest = Static<typeof SimChatRequest>
