import { Type, type Static } from 'typebox'
import { BaseConfig } from '@skein/kit'

export const SimulatorConfig = Type.Object({
  ...BaseConfig.properties,
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 8090, description: 'Port to listen on' }),
  SIM_MODELS: Type.String({ default: 'skein-sim-1,skein-sim-mini', description: 'Chat models the simulator serves, comma separated' }),
  SIM_EMBEDDING_MODEL: Type.String({ default: 'skein-sim-embed', description: 'The embedding model it serves' }),
  SIM_EMBEDDING_DIMENSIONS: Type.Integer({ minimum: 8, maximum: 4096, default: 256, description: 'Length of its embedding vectors' }),
  SIM_TOKENS_PER_SECOND: Type.Number({ minimum: 0, default: 50, description: 'Streaming rate; 0 streams unthrottled' })
})
export type SimulatorConfig = Static<typeof SimulatorConfig>

declare module '@skein/kit' {
  interface ServiceConfig extends SimulatorConfig {}
}
