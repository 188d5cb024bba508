import { Type, type Static } from 'typebox'
import { BaseConfig } from '@skein/kit'

export const SimulatorConfig = Type.Object({
  ...BaseConfig.properties,
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8090, description: 'Port to listen on' }),
  SIM_MODELS: Type.String({ default: 'skein-sim-1,skein-sim-mini', description: 'Chat models the simulator serves, comma separated' }),
  SIM_EMBEDDING_MODEL: Type.String({ default: 'skein-sim-embed', description: 'The embedding model it serves' }),
  SIM_EMBEDDING_DIMENSIONS: Type.Integer({ minimum: 8, maximum: 4096, default: 256, description: 'Length of its embedding vectors' }),
  SIM_TOKENS_PER_SECOND: Type.Number({ minimum: 0, default: 50, description: 'Streaming rate; 0 streams unthrottled' }),
  SIM_SPEECH_MODEL: Type.String({ minLength: 1, default: 'skein-sim-tts', description: 'The text-to-speech model it serves (tts-1 and gpt-4o-mini-tts are aliases)' }),
  SIM_IMAGE_MODEL: Type.String({ minLength: 1, default: 'skein-sim-image', description: 'The image model it serves (dall-e-3 and gpt-image-1 are aliases)' }),
  SIM_FAULT: Type.String({
    default: '',
    description: 'A fault injected into every request, e.g. "status=503,retry-after=1,times=2" (the x-sim-fault header, same grammar, wins); empty for none',
    examples: ['latency=2000', 'status=429,retry-after=1,times=1', 'hang,model=skein-sim-mini', 'cut-after=5']
  })
})
export type SimulatorConfig = Static<typeof SimulatorConfig>

declare module '@skein/kit' {
  interface ServiceConfig extends SimulatorConfig {}
}
