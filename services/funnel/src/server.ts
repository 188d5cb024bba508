import { packageVersion, startService } from '@skein/kit'
import app, { definition } from './app.js'
import { FunnelConfig } from './config.js'

await startService({ ...definition, version: packageVersion(import.meta.url), configSchema: FunnelConfig }, app)
