import fp from 'fastify-plugin'
import { ChromaClient } from 'chromadb'

declare module 'fastify' {
  interface FastifyInstance {
    /** The chromadb client; the chroma-service is the only part of Skein that talks to Chroma. */
    chroma: ChromaClient
  }
}

/** A chromadb client for a server's URL. */
export function connectChroma (chromaUrl: string): ChromaClient {
  const url = new URL(chromaUrl)
  const ssl = url.protocol === 'https:'
  return new ChromaClient({ host: url.hostname, port: Number(url.port || (ssl ? 443 : 80)), ssl })
}

/** `fastify.chroma` for CHROMA_URL, and `chromadb` in `/health` (its heartbeat). */
export default fp(async function chromaClient (fastify) {
  const url = new URL(fastify.config.CHROMA_URL)
  const client = connectChroma(fastify.config.CHROMA_URL)
  fastify.decorate('chroma', client)
  fastify.health.add('chromadb', async () => {
    await client.heartbeat()
    return { status: 'up', message: url.origin }
  })
}, { name: 'chroma-client', dependencies: ['@skein/kit/health'] })
