import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyRequest } from 'fastify'
import { DeliverPolicy, jetstream } from '@nats-io/jetstream'
import { Type } from 'typebox'
import { THREADS_STREAM, onStalled, subjects } from '@skein/bus'
import { startEventStream } from '@skein/kit'
import { CreateTaskBody, ErrorBody, PostMessageBody, ThreadMessage, ThreadMessagesPage, ThreadMessagesQuery, ThreadRecord, ThreadStatus, ThreadTree, type ThreadEventPayload } from '@skein/schemas'
import { MAIN_THREAD, canAccess } from '../threads/engine.js'

const user = (request: FastifyRequest): string => request.user ?? 'unknown'

const ThreadId = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', examples: ['main'] }) })
const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 409: ErrorBody, 422: ErrorBody }
const HEARTBEAT_MS = 15_000

// OpenAPI examples: a task of two steps after it completed, and the main thread's messages about it.
const TASK = 't-3f0e1c9a5b1d'
const taskExample = {
  id: TASK,
  kind: 'task',
  parent: 'main',
  root: TASK,
  depth: 1,
  task: '1. Research cats\n2. Compare cats with dogs using the results',
  assistant: { instructions: 'You are the assistant of one thread in Skein, a tree of threads. …', model: 'skein-sim-1' },
  status: 'completed',
  children: [`${TASK}-s1`, `${TASK}-s2`],
  dependsOn: [],
  result: '[simulated] Cats are independent hunters; dogs are pack animals…',
  error: null,
  usage: { promptTokens: 412, completionTokens: 236 },
  owner: 'alice',
  createdAt: '2025-11-24T16:00:00.000Z',
  updatedAt: '2025-11-24T16:00:02.310Z',
  closedAt: '2025-11-24T16:00:02.310Z'
}
const treeExample = {
  id: TASK,
  kind: 'task',
  task: taskExample.task,
  status: 'completed',
  result: taskExample.result,
  children: [
    { id: `${TASK}-s1`, kind: 'step', task: 'Research cats', status: 'completed', result: '[simulated] Cats…', children: [] },
    { id: `${TASK}-s2`, kind: 'step', task: 'Compare cats with dogs using the results', status: 'completed', result: '[simulated] Compared with dogs…', children: [] }
  ]
}
const userMessageExample = { id: 'm-6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f', thread: 'main', seq: 41, role: 'user', author: 'alice', text: 'What did the last task conclude?', ts: '2025-11-24T16:01:00.000Z' }
const messagesExample = {
  messages: [
    { id: `report-${TASK}`, thread: 'main', seq: 40, role: 'report', author: 'assistant', text: taskExample.result, ts: '2025-11-24T16:00:02.300Z', from: TASK },
    userMessageExample,
    {
      id: `reply-${userMessageExample.id}`,
      thread: 'main',
      seq: 97,
      role: 'assistant',
      author: 'assistant',
      text: '[simulated] The last task concluded that cats are independent hunters…',
      ts: '2025-11-24T16:01:01.200Z',
      inReplyTo: userMessageExample.id,
      model: 'skein-sim-1',
      finishReason: 'stop',
      usage: { promptTokens: 96, completionTokens: 54 }
    }
  ],
  more: true
}
const eventsExample = 'id: 42\nevent: token\ndata: {"type":"token","thread":"main","ts":"2025-11-24T16:01:00.210Z","data":{"messageId":"reply-m-6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f","index":0,"token":"[simulated]"},"seq":42}\n\n'

/** The threads API: the main thread, tasks, messages, cancel, the tree, and a thread's events as SSE. */
const threads: FastifyPluginAsyncTypebox = async (fastify) => {
  const { engine, store, log } = fastify.threads
  // Event streams never end by themselves: on shutdown they end (clients resume elsewhere with Last-Event-ID)
  // instead of holding the server open until the shutdown timeout.
  const open = new Set<() => void>()
  fastify.addHook('preClose', async () => { for (const stop of open) stop() })

  fastify.get('/threads/main', {
    schema: {
      tags: ['threads'],
      summary: 'The main thread (created once, never completes)',
      security: [{ bearerAuth: [] }],
      response: { 200: { ...ThreadRecord, examples: [{ ...taskExample, id: 'main', kind: 'main', parent: null, root: 'main', depth: 0, task: 'Keep the main thread.', status: 'open', children: [], result: null, owner: 'skein', closedAt: null }] }, ...errors }
    }
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
      response: { 200: Type.Object({ threads: Type.Array(ThreadRecord) }, { examples: [{ threads: [taskExample] }] }), ...errors }
    }
  }, async (request) => ({ threads: (await store.list(request.query)).filter((r) => canAccess(r, user(request))) }))

  fastify.get('/threads/:id', {
    schema: { tags: ['threads'], summary: 'A thread\'s record: task, assistant, status, children, result, usage', security: [{ bearerAuth: [] }], params: ThreadId, response: { 200: { ...ThreadRecord, examples: [taskExample] }, ...errors } }
  }, async (request) => await engine.getFor(request.params.id, user(request)))

  fastify.get('/threads/:id/tree', {
    schema: { tags: ['threads'], summary: 'The thread and all its descendants with their statuses', security: [{ bearerAuth: [] }], params: ThreadId, response: { 200: { ...ThreadTree, examples: [treeExample] }, ...errors } }
  }, async (request) => await engine.tree(request.params.id, user(request)))

  fastify.get('/threads/:id/messages', {
    schema: {
      tags: ['threads'],
      summary: 'The thread\'s messages: all after a sequence number, or a page of the newest (limit), older pages with before',
      description: 'A long thread is shown a page at a time: `?limit=200` gives its newest 200 messages and `more`; `?before=<the first seq shown>&limit=200` the 200 before them.',
      security: [{ bearerAuth: [] }],
      params: ThreadId,
      querystring: ThreadMessagesQuery,
      response: { 200: { ...ThreadMessagesPage, examples: [messagesExample] }, ...errors }
    }
  }, async (request) => {
    await engine.getFor(request.params.id, user(request))
    const { after = 0, before, limit } = request.query
    if (limit !== undefined) return await log.page(request.params.id, { after, limit, ...(before !== undefined ? { before } : {}) })
    return { messages: await log.messages(request.params.id, after, before === undefined ? Infinity : before - 1), more: false }
  })

  fastify.post('/threads/:id/messages', {
    schema: {
      tags: ['threads'],
      summary: 'Post a user message; a conversation thread (the main one too) answers it, streamed in its events',
      security: [{ bearerAuth: [] }],
      params: ThreadId,
      body: PostMessageBody,
      response: { 201: { ...ThreadMessage, examples: [userMessageExample] }, ...errors }
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
      response: { 201: { ...ThreadRecord, examples: [{ ...taskExample, status: 'planning', children: [], result: null, usage: { promptTokens: 0, completionTokens: 0 }, updatedAt: taskExample.createdAt, closedAt: null }] }, ...errors }
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
      response: { 200: Type.Object({ cancelled: Type.Array(Type.String()) }, { examples: [{ cancelled: [TASK, `${TASK}-s1`, `${TASK}-s2`] }] }), ...errors }
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
      response: { 200: Type.Object({ stopped: Type.Boolean() }, { examples: [{ stopped: true }] }), ...errors }
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
      response: { 200: Type.String({ description: 'text/event-stream', examples: [eventsExample] }), ...errors }
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
    open.add(stop)
    raw.on('close', stop)
    // Its server gone (a cluster node lost): the stream ends, and the client's reconnect with Last-Event-ID
    // goes on from where it was.
    onStalled(messages, stop)
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
      open.delete(stop)
      clearInterval(heartbeat)
      stop()
      if (!raw.destroyed) raw.end()
    }
  })
}
export default threads
