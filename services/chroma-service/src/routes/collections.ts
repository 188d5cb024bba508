import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import {
  CollectionInfo,
  CollectionList,
  CollectionName,
  CreateCollectionBody,
  DocumentId,
  DocumentRecord,
  ErrorBody,
  QueryBody,
  QueryReply,
  UpsertDocumentsBody,
  UpsertDocumentsReply
} from '@skein/schemas'
import { UpsertTooLargeError } from '../errors.js'

const Name = Type.Object({ name: CollectionName })
const NameAndId = Type.Object({ name: CollectionName, id: DocumentId })
const security = [{ bearerAuth: [] }]
const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 503: ErrorBody }
const Deleted = Type.Null({ description: 'Deleted' })

/**
 * `/api/collections`: a user's collections (and the ones others share), their documents, and semantic queries.
 * Every route acts for the token's user; someone else's private collection is a 404, someone else's shared
 * one is readable and queryable but not writable (403).
 */
const collections: FastifyPluginAsyncTypebox = async (fastify) => {
  const store = fastify.collections
  const upsertBodyLimit = fastify.config.MEMORY_UPSERT_BODY_LIMIT

  fastify.get('/api/collections', {
    schema: {
      tags: ['collections'],
      summary: 'Your collections, then the ones others share',
      security,
      response: { 200: CollectionList, 401: ErrorBody, 503: ErrorBody }
    }
  }, async (request) => ({ collections: await store.list(request.user!) }))

  fastify.post('/api/collections', {
    schema: {
      tags: ['collections'],
      summary: 'Create a collection (built with the configured embedding model)',
      security,
      body: CreateCollectionBody,
      response: { 201: CollectionInfo, 409: ErrorBody, ...errors }
    }
  }, async (request, reply) => reply.code(201).send(await store.create(request.user!, request.body)))

  fastify.get('/api/collections/:name', {
    schema: {
      tags: ['collections'],
      summary: 'A collection: its documents count, metadata and embedding model',
      security,
      params: Name,
      response: { 200: CollectionInfo, ...errors }
    }
  }, async (request) => await store.get(request.user!, request.params.name))

  fastify.delete('/api/collections/:name', {
    schema: {
      tags: ['collections'],
      summary: 'Delete a collection and its documents (its owner only)',
      security,
      params: Name,
      response: { 204: Deleted, 403: ErrorBody, ...errors }
    }
  }, async (request, reply) => {
    await store.remove(request.user!, request.params.name)
    return reply.code(204).send(null)
  })

  fastify.post('/api/collections/:name/documents', {
    schema: {
      tags: ['collections'],
      summary: 'Upsert documents: the same id replaces, never duplicates; a document without an id gets one from its content',
      description: 'A document sent without an id gets `d-` followed by 32 hex digits of the SHA-256 of its text and metadata ' +
        '(canonical JSON, keys sorted), so sending the same document twice, or retrying a call that failed part way ' +
        '(a 503 after some batches were written), stores it once. Two documents with the same text and metadata are ' +
        'one document; give ids to keep them apart. The answer lists the id of every document, in the order given. ' +
        'The body may be up to MEMORY_UPSERT_BODY_LIMIT bytes (32 MiB unless configured), more than the other routes allow; a larger one is a 413.',
      security,
      params: Name,
      body: UpsertDocumentsBody,
      response: { 200: UpsertDocumentsReply, 403: ErrorBody, 409: ErrorBody, 413: ErrorBody, 422: ErrorBody, ...errors }
    },
    // Many documents in one call: a limit of its own, above the service's BODY_LIMIT, with a 413 that names it.
    bodyLimit: upsertBodyLimit,
    errorHandler (err, request, reply) {
      fastify.errorHandler.call(fastify, err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? new UpsertTooLargeError(upsertBodyLimit) : err, request, reply)
    }
  }, async (request) => await store.upsert(request.user!, request.params.name, request.body.documents))

  fastify.get('/api/collections/:name/documents/:id', {
    schema: {
      tags: ['collections'],
      summary: 'One document',
      security,
      params: NameAndId,
      response: { 200: DocumentRecord, ...errors }
    }
  }, async (request) => await store.getDocument(request.user!, request.params.name, request.params.id))

  fastify.delete('/api/collections/:name/documents/:id', {
    schema: {
      tags: ['collections'],
      summary: 'Delete one document',
      security,
      params: NameAndId,
      response: { 204: Deleted, 403: ErrorBody, ...errors }
    }
  }, async (request, reply) => {
    await store.deleteDocument(request.user!, request.params.name, request.params.id)
    return reply.code(204).send(null)
  })

  fastify.post('/api/collections/:name/query', {
    schema: {
      tags: ['collections'],
      summary: 'The documents closest in meaning to a text, best first, optionally filtered by metadata',
      security,
      params: Name,
      body: QueryBody,
      response: { 200: QueryReply, 409: ErrorBody, 422: ErrorBody, ...errors }
    }
  }, async (request) => ({ results: await store.query(request.user!, request.params.name, { text: request.body.text, k: request.body.k ?? 10, where: request.body.where }) }))
}
export default collections
