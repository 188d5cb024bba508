import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import { DeliverPolicy, jetstream } from '@nats-io/jetstream'
import { Type } from 'typebox'
import { THREADS_STREAM, subjects } from '@skein/bus'
import { startEventStream } from '@skein/kit'
import { CreateTaskBody, ErrorBody, PostMessageBody, ThreadMessage, ThreadRecord, ThreadStatus, ThreadTree, type ThreadEventPayload } from '@skein/schemas'
import { MAIN_THREAD, canAccess } from '../threads/engine.js'

const user = (request: FastifyRequest): string => request.user ?? 'unknown'

const ThreadId = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', examples: ['main'] }) })
const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 409: ErrorBody, 422: ErrorBody }
const HEARTBEAT_MS = 15_000

/** The threads API: the main thread, tasks, messages, cancel, the tree, and a thread's events as SSE. */
const threads: FastifyPluginAsyncTypebox = async (fastify) => {
  const { engine, store, log } = fastify.threads

  fastify.get('/threads/main', {
    schema: { tags: ['threads'], summary: 'The main thread (created once, never completes)', security: [{ bearerAuth: [] }], response: { 200: ThreadRecord, ...errors } }
  }, async () => await engine.get(MAIN_THREAD))

  fastify.get('/threads', {
    schema: {
      tags: ['threads'],
      summary: 'Threads, filtered by status, parent or root task',
      security: [{ bearerAuth: [] }],
      querystring: Type.Object({
        status: Type.Optional(ThreadStatus),
        parent: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' })),
        root: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }))
      }),
      response: { 200: Type.Object({ threads: Type.Array(ThreadRecord) }), ...errors }
    }
  }, async (request) => ({ threads: (await store.list(request.query)).filter((r) => canAccess(r, user(request))) }))

  fastify.get('/threads/:id', {
    schema: { tags: ['threads'], summary: 'A thread\'s record: task, assistant, status, children, result, usage', security: [{ bearerAuth: [] }], params: ThreadId, response: { 200: ThreadRecord, ...errors } }
  }, async (request) => await engine.getFor(request.params.id, user(request)))

  fastify.get('/threads/:id/tree', {
    schema: { tags: ['threads'], summary: 'The thread and all its descendants with their statuses', security: [{ bearerAuth: [] }], params: ThreadId, response: { 200: ThreadTree, ...errors } }
  }, async (request) => await engine.tree(request.params.id, user(request)))

  fastify.get('/threads/:id/messages', {
    schema: {
      tags: ['threads'],
      summary: 'The thread\'s messages after a sequence number',
      security: [{ bearerAuth: [] }],
      params: ThreadId,
      querystring: Type.Object({ after: Type.Optional(Type.Integer({ minimum: 0, default: 0 })) }),
      response: { 200: Type.Object({ messages: Type.Array(ThreadMessage) }), ...errors }
    }
  }, async (request) => {
    await engine.getFor(request.params.id, user(request))
    return { messages: await log.messages(request.params.id, request.query.after ?? 0) }
  })

  fastify.post('/threads/:id/messages', {
    schema: {
      tags: ['threads'],
      summary: 'Post a user message; a conversation thread (the main one too) answers it, streamed in its events',
      security: [{ bearerAuth: [] }],
      params: ThreadId,
      body: PostMessageBody,
      response: { 201: ThreadMessage, ...errors }
    }
  }, async (request, reply) => {
    const message = await engine.postMessage(request.params.id, request.body.text, user(request), { requestId: request.id })
    return reply.code(201).send(message)
  })

  fastify.post('/tasks', {
    schema: {
      tags: ['threads'],
      summary: 'Start a task: a task thread under the parent (default: main) that plans, runs its steps and reports',
      security: [{ bearerAuth: [] }],
      body: CreateTaskBody,
      response: { 201: ThreadRecord, ...errors }
    }
  }, async (request, reply) => {
    const record = await engine.createTask({
      task: request.body.task,
      owner: request.user ?? 'unknown',
      requestId: request.id,
      ...(request.body.parent ? { parent: request.body.parent } : {}),
      ...(request.body.model ? { model: request.body.model } : {})
    })
    return reply.code(201).send(record)
  })

  fastify.post('/threads/:id/cancel', {
    schema: {
      tags: ['threads'],
      summary: 'Cancel a thread and all its descendants; in-flight model calls are aborted',
      security: [{ bearerAuth: [] }],
      params: ThreadId,
      response: { 200: Type.Object({ cancelled: Type.Array(Type.String()) }), ...errors }
    }
  }, async (request) => {
    await engine.getFor(request.params.id, user(request))
    return { cancelled: await engine.cancel(request.params.id) }
  })

  fastify.post('/threads/:id/stop', {
    schema: {
      tags: ['threads'],
      summary: 'Stop the answers being generated in a thread; the thread stays open',
      description: 'Each answer under way ends with the text it had, marked finishReason "stopped". Any instance may be generating it: every one hears the stop.',
      security: [{ bearerAuth: [] }],
      params: ThreadId,
      response: { 200: Type.Object({ stopped: Type.Boolean() }), ...errors }
    }
  }, async (request) => {
    engine.stop((await engine.getFor(request.params.id, user(request))).id)
    return { stopped: true }
  })

  fastify.get('/threads/:id/events', {
    schema: {
      tags: ['threads'],
      summary: 'The thread\'s lifecycle events, messages and tokens as Server-Sent Events; resume with Last-Event-ID',
      description: 'Each event\'s id is its sequence number. A reconnecting client sends Last-Event-ID (or ?after=) and gets every later event once, in order, then the live tail.',
      security: [{ bearerAuth: [] }],
      params: ThreadId,
      querystring: Type.Object({ after: Type.Optional(Type.Integer({ minimum: 0 })), token: Type.Optional(Type.String()) }),
      headers: Type.Object({ 'last-event-id': Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$' })) }),
      response: { 200: Type.String({ description: 'text/event-stream' }), ...errors }
    }
  }, async (request, reply) => {
    await engine.getFor(request.params.id, user(request))
    const after = Number(request.headers['last-event-id'] ?? request.query.after ?? 0)
    // One ordered consumer replays from `after` and goes on with the live tail: there is no seam to lose at.
    const consumer = await jetstream(fastify.nats).consumers.get(THREADS_STREAM, {
      filter_subjects: subjects.threadEvents(request.params.id),
      ...(after > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: after + 1 } : { deliver_policy: DeliverPolicy.All })
    })
    const messages = await consumer.consume()
    const raw = startEventStream(reply)
    const heartbeat = setInterval(() => raw.write(': keep-alive\n\n'), HEARTBEAT_MS)
    const stop = (): void => { void messages.close().catch(() => {}) }
    raw.on('close', stop)
    if (request.raw.destroyed || raw.destroyed) stop() // the client left while the consumer was being made
    try {
      for await (const m of messages) {
        if (raw.destroyed) break
        const e = m.json<ThreadEventPayload>()
        raw.write(`id: ${m.seq}\nevent: ${e.type}\ndata: ${JSON.stringify({ ...e, seq: m.seq })}\n\n`)
      }
    } catch (err) {
      request.log.warn({ err }, 'thread events stream failed')
    } finally {
      clearInterval(heartbeat)
      stop()
      if (!raw.destroyed) raw.end()
    }
  })
}
export default threads
