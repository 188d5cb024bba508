import fp from 'fastify-plugin'
import { ChromaClient } from 'chromadb'

declare module 'fastify' {
  interface FastifyInstance {
    /** The chromadb client; the chroma-service is the only part of Skein that talks to Chroma. */
    chroma: ChromaClient
  }
}

interface RequestInterceptors { use: (fn: (request: Request) => Request) => unknown }

/**
 * A chromadb client for a server's URL, each of its requests abandoned after `timeoutMs` (a Chroma that accepts
 * connections but never answers then fails like one that is down: ChromaConnectionError, a 503 for clients).
 * chromadb 3.x has no timeout option: its `fetchOptions` are one RequestInit for the client's whole life (one
 * AbortSignal.timeout there would expire once, for every later request), and it replaces any `fetch` given with
 * its own. So every request gets its own deadline from a request interceptor of the client's generated API
 * client, which chromadb keeps in a private field: checked here, so that an upgrade that moves it fails at start.
 */
export function connectChroma (chromaUrl: string, timeoutMs: number): ChromaClient {
  const url = new URL(chromaUrl)
  const ssl = url.protocol === 'https:'
  const client = new ChromaClient({ host: url.hostname, port: Number(url.port || (ssl ? 443 : 80)), ssl })
  const interceptors = (client as unknown as { apiClient?: { interceptors?: { request?: Partial<RequestInterceptors> } } }).apiClient?.interceptors?.request
  if (typeof interceptors?.use !== 'function') throw new Error('this chromadb version keeps no request interceptors where connectChroma expects them: its requests cannot be given a deadline; see src/plugins/chroma-client.ts')
  interceptors.use((request) => new Request(request, { signal: AbortSignal.any([request.signal, AbortSignal.timeout(timeoutMs)]) }))
  return client
}

/** `fastify.chroma` for CHROMA_URL, and `chromadb` in `/health` (its heartbeat, bounded by the health check's own timeout). */
export default fp(async function chromaClient (fastify) {
  const url = new URL(fastify.config.CHROMA_URL)
  const client = connectChroma(fastify.config.CHROMA_URL, fastify.config.CHROMA_TIMEOUT_MS)
  fastify.decorate('chroma', client)
  fastify.health.add('chromadb', async () => {
    await client.heartbeat()
    return { status: 'up', message: url.origin }
  })
}, { name: 'chroma-client', dependencies: ['@skein/kit/health'] })
