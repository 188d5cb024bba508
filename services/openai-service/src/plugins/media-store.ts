import { randomUUID } from 'node:crypto'
import fp from 'fastify-plugin'
import { Objm, type ObjectStore } from '@nats-io/obj'
import type { MediaItem } from '@skein/schemas'

export interface StoredMedia {
  item: MediaItem
  owner: string
  data: ReadableStream<Uint8Array>
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Speech and images, kept in a JetStream object store (any instance serves any item). */
    media: {
      put: (kind: MediaItem['kind'], mime: string, bytes: Uint8Array, meta: { owner: string, model: string }) => Promise<MediaItem>
      get: (id: string) => Promise<StoredMedia | null>
    }
  }
}

export const MEDIA_BUCKET = 'skein-media'

/** `fastify.media`: put and get media in the `skein-media` object store (created if absent, at boot). */
export default fp(async function mediaStore (fastify) {
  const store: ObjectStore = await new Objm(fastify.nats).create(MEDIA_BUCKET, { description: 'Speech and images made for Skein users' })

  fastify.decorate('media', {
    async put (kind, mime, bytes, meta) {
      const id = randomUUID()
      const createdAt = new Date().toISOString()
      const description = JSON.stringify({ kind, mime, owner: meta.owner, model: meta.model, createdAt })
      const info = await store.putBlob({ name: id, description }, bytes)
      return { id, kind, mime, size: info.size, url: `/media/${id}`, model: meta.model, createdAt }
    },
    async get (id) {
      const result = await store.get(id)
      if (!result || result.info.deleted) return null
      const d = JSON.parse(result.info.description ?? '{}') as { kind: MediaItem['kind'], mime: string, owner: string, model: string, createdAt: string }
      return {
        item: { id, kind: d.kind, mime: d.mime, size: result.info.size, url: `/media/${id}`, model: d.model, createdAt: d.createdAt },
        owner: d.owner,
        data: result.data
      }
    }
  })
}, { name: 'media-store', dependencies: ['@skein/bus'] })
