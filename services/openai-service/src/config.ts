import { Type, type Static } from 'typebox'
import { AuthConfig, BaseConfig } from '@skein/kit'

export const OpenAIServiceConfig = Type.Object({
  ...BaseConfig.properties,
  ...AuthConfig.properties,
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8001, description: 'Port to listen on' }),
  OPENAI_API_KEY: Type.Optional(Type.String({ description: 'Key for the model backend' })),
  OPENAI_BASE_URL: Type.Optional(Type.String({ pattern: '^https?://', description: 'An OpenAI-compatible server (OpenAI, Ollama, vLLM, llama.cpp, the simulator)' })),
  MODEL_BACKEND: Type.Union([Type.Literal('simulator'), Type.Literal('openai-compatible')], { default: 'openai-compatible', description: 'What the backend is, as reported in /health' }),
  SKEIN_MODEL: Type.String({ minLength: 1, default: 'skein-sim-1', description: 'The default chat model' }),
  MODEL_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 60_000, description: 'Upper bound of one model call' }),
  MODEL_MAX_RETRIES: Type.Integer({ minimum: 0, maximum: 10, default: 2, description: 'Retries on 429 and 5xx' })
})
export type OpenAIServiceConfig = Static<typeof OpenAIServiceConfig>

declare module '@skein/kit' {
  interface ServiceConfig extends OpenAIServiceConfig {}
}
