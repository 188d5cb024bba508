/// <reference types="@fastify/swagger" />
export {
  AuthConfig,
  ExpiredTokenError,
  InvalidTokenError,
  MissingTokenError,
  SYSTEM_USER,
  USER_NAME,
  authPlugin,
  requestClaims,
  requestToken,
  signToken,
  verifyToken,
  type AuthPluginOptions,
  type TokenClaims
} from './auth.js'
export { BaseConfig, ConfigError, loadConfig, trustProxy, type ServiceConfig } from './config.js'
export { createError, errorResponse, installErrorHandling, type ServiceError } from './errors.js'
export { healthPlugin, type HealthCheck, type HealthRegistry } from './health.js'
export { embeddingModelOf, modelBackends, readModelsFile, type ConfiguredBackend, type ModelSettings } from './models-file.js'
export { openapiPlugin, type OpenApiOptions } from './openapi.js'
export {
  REQUEST_ID_HEADER,
  buildService,
  packageVersion,
  redactUrl,
  startService,
  type ServiceDefinition,
  type StartOptions
} from './service.js'
export { startEventStream } from './event-stream.js'
export { getJson, type UpstreamAnswer, type UpstreamCall } from './upstream.js'
