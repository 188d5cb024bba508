import { packageVersion, startService } from '@skein/kit'
import app, { definition } from './app.js'
import { SimulatorConfig } from './config.js'

await startService({ ...definition, version: packageVersion(import.meta.url), configSchema: SimulatorConfig }, app)
