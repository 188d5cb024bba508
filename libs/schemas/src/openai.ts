import { Type, type Static } from 'typebox'

// The OpenAI-compatible surface (`/v1/...`), spoken by the openai-service and by the model simulator.
// Only the fields Skein reads are described; unknown fields are accepted, as OpenAI's servers do.

export const ChatContentPart = Type.Object({
  type: Type.String(),
  text: Type.Optional(Type.String())
}, { additionalProperties: true })

export const ChatMessage = Type.Object({
  role: Type.Union([Type.Literal('system'), Type.Literal('developer'), Type.Literal('user'), Type.Literal('assistant'), Type.Literal('tool')]),
  content: Type.Optional(Type.Union([Type.String(), Type.Array(ChatContentPart), Type.Null()])),
  name: Type.Optional(Type.String()),
  tool_call_id: Type.Optional(Type.String()),
  tool_calls: Type.Optional(Type.Array(Type.Unknown()))
}, { additionalProperties: true, title: 'ChatMessage' })
export type ChatMessage = Static<typeof ChatMessage>

export const ChatCompletionRequest = Type.Object({
  model: Type.String({ minLength: 1, examples: ['skein-sim-1'] }),
  messages: Type.Array(ChatMessage, { minItems: 1 }),
  stream: Type.Optional(Type.Boolean()),
  stream_options: Type.Optional(Type.Union([Type.Object({ include_usage: Type.Optional(Type.Boolean()) }, { additionalProperties: true }), Type.Null()])),
  max_tokens: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
  max_completion_tokens: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
  temperature: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 2 }), Type.Null()])),
  response_format: Type.Optional(Type.Unknown()),
  tools: Type.Optional(Type.Array(Type.Unknown())),
  tool_choice: Type.Optional(Type.Unknown()),
  user: Type.Optional(Type.String())
}, { additionalProperties: true, title: 'ChatCompletionRequest' })
export type ChatCompletionRequest = Static<typeof ChatCompletionRequest>

export const Usage = Type.Object({
  prompt_tokens: Type.Integer({ minimum: 0 }),
  completion_tokens: Type.Integer({ minimum: 0 }),
  total_tokens: Type.Integer({ minimum: 0 })
}, { title: 'Usage' })
export type Usage = Static<typeof Usage>

export const ChatCompletion = Type.Object({
  id: Type.String(),
  object: Type.Literal('chat.completion'),
  created: Type.Integer(),
  model: Type.String(),
  choices: Type.Array(Type.Object({
    index: Type.Integer(),
    message: Type.Object({ role: Type.Literal('assistant'), content: Type.Union([Type.String(), Type.Null()]), tool_calls: Type.Optional(Type.Array(Type.Unknown())) }, { additionalProperties: true }),
    finish_reason: Type.Union([Type.String(), Type.Null()])
  })),
  usage: Type.Optional(Usage)
}, { title: 'ChatCompletion' })
export type ChatCompletion = Static<typeof ChatCompletion>

export const ChatCompletionChunk = Type.Object({
  id: Type.String(),
  object: Type.Literal('chat.completion.chunk'),
  created: Type.Integer(),
  model: Type.String(),
  choices: Type.Array(Type.Object({
    index: Type.Integer(),
    delta: Type.Object({ role: Type.Optional(Type.Literal('assistant')), content: Type.Optional(Type.Union([Type.String(), Type.Null()])), tool_calls: Type.Optional(Type.Array(Type.Unknown())) }, { additionalProperties: true }),
    finish_reason: Type.Union([Type.String(), Type.Null()])
  })),
  usage: Type.Optional(Type.Union([Usage, Type.Null()]))
}, { title: 'ChatCompletionChunk' })
export type ChatCompletionChunk = Static<typeof ChatCompletionChunk>

export const Model = Type.Object({
  id: Type.String(),
  object: Type.Literal('model'),
  created: Type.Integer(),
  owned_by: Type.String()
}, { title: 'Model' })

export const ModelList = Type.Object({
  object: Type.Literal('list'),
  data: Type.Array(Model)
}, { title: 'ModelList' })
export type ModelList = Static<typeof ModelList>

export const EmbeddingsRequest = Type.Object({
  model: Type.String({ minLength: 1 }),
  input: Type.Union([Type.String(), Type.Array(Type.String(), { minItems: 1 })]),
  encoding_format: Type.Optional(Type.Union([Type.Literal('float'), Type.Literal('base64')])),
  dimensions: Type.Optional(Type.Integer({ minimum: 1 })),
  user: Type.Optional(Type.String())
}, { additionalProperties: true, title: 'EmbeddingsRequest' })
export type EmbeddingsRequest = Static<typeof EmbeddingsRequest>

export const EmbeddingsResponse = Type.Object({
  object: Type.Literal('list'),
  model: Type.String(),
  data: Type.Array(Type.Object({
    object: Type.Literal('embedding'),
    index: Type.Integer(),
    embedding: Type.Union([Type.Array(Type.Number()), Type.String()])
  })),
  usage: Type.Object({ prompt_tokens: Type.Integer(), total_tokens: Type.Integer() })
}, { title: 'EmbeddingsResponse' })
export type EmbeddingsResponse = Static<typeof EmbeddingsResponse>
