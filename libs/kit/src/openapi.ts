/// <reference types="@fastify/swagger" />
import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'

export interface OpenApiOptions {
  title: string
  description: string
  /** Where the Swagger UI is served, e.g. "/docs" (it loads its spec from `<uiPath>/json`). */
  uiPath: string
  /** The public URL of the OpenAPI document, e.g. "/openai.json". */
  specPath: string
  tags?: Array<{ name: string, description: string }>
  version?: string
}

/** OpenAPI 3.1 from every route's TypeBox schema, the Swagger UI, and the document at a stable URL. */
export const openapiPlugin = fp<OpenApiOptions>(async function openapi (fastify, opts) {
  await fastify.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: opts.title, description: opts.description, version: opts.version ?? '0.0.0' },
      tags: opts.tags ?? [],
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }
        }
      }
    }
  })
  await fastify.register(swaggerUi, { routePrefix: opts.uiPath, uiConfig: { deepLinking: true, tryItOutEnabled: true } })
  fastify.get(opts.specPath, { schema: { hide: true } }, async () => fastify.swagger())
}, { name: '@skein/kit/openapi', fastify: '5.x' })
