import fp from 'fastify-plugin'
import OpenAI from 'openai'

declare module 'fastify' {
  interface FastifyInstance {
    /** Embeddings through the configured backend's `/v1/embeddings` (the simulator's, offline). */
    embedder: {
      model: string
      embed: (texts: string[]) => Promise<number[][]>
    }
  }
}

export default fp(async function embedder (fastify) {
  const c = fastify.config
  const model = c.EMBEDDING_MODEL ?? (c.MODEL_BACKEND === 'simulator' ? 'skein-sim-embed' : 'text-embedding-3-small')
  const client = c.OPENAI_API_KEY || c.OPENAI_BASE_URL
    ? new OpenAI({ apiKey: c.OPENAI_API_KEY ?? 'none', ...(c.OPENAI_BASE_URL ? { baseURL: c.OPENAI_BASE_URL } : {}), timeout: c.EMBEDDING_TIMEOUT_MS, maxRetries: 2 })
    : null
  fastify.decorate('embedder', {
    model,
    async embed (texts) {
      if (!client) throw new Error('no embedding backend: set OPENAI_API_KEY or OPENAI_BASE_URL')
      if (texts.length === 0) return []
      const res = await client.embeddings.create({ model, input: texts, encoding_format: 'float' })
      return res.data.sort((a, b) => a.index - b.index).map((d) => d.embedding)
    }
  })
}, { name: 'embedder' })
