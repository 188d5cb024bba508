import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node'
import type { FastifyBaseLogger } from 'fastify'
import { Compile } from 'typebox/compile'
import { Type, type Static, type TSchema } from 'typebox'
import { subjects } from '@skein/bus'
import { ThreadsRpcRequest, type ThreadsRpcReply } from '@skein/schemas'
import type { ThreadsEngine } from './engine.js'

const Id = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' })
const User = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' })
const Text = Type.String({ minLength: 1, maxLength: 16_000 })
const Model = Type.String({ minLength: 1, maxLength: 128 })

/** The data each operation takes (the funnel validates its frames first; this is the service's own guard). */
const Ops = {
  get: Type.Object({ thread: Id }),
  create_room: Type.Object({ room: Type.Optional(Id), model: Type.Optional(Model), private: Type.Optional(Type.Boolean()), members: Type.Optional(Type.Array(User, { maxItems: 256 })) }),
  llm_request: Type.Object({ thread: Id, text: Text, model: Type.Optional(Model), session: Type.Optional(Type.String({ maxLength: 64 })), clientId: Type.Optional(Type.String({ maxLength: 128 })) }),
  post: Type.Object({ thread: Id, text: Text, session: Type.Optional(Type.String({ maxLength: 64 })) }),
  create_task: Type.Object({ task: Type.String({ minLength: 1, maxLength: 50_000 }), parent: Type.Optional(Id), model: Type.Optional(Model) }),
  cancel: Type.Object({ thread: Id })
} satisfies Record<string, TSchema>
type Op = keyof typeof Ops
const checks = Object.fromEntries(Object.entries(Ops).map(([op, schema]) => [op, Compile(schema)])) as { [K in Op]: ReturnType<typeof Compile<(typeof Ops)[K]>> }
const checkRequest = Compile(ThreadsRpcRequest)

async function run (engine: ThreadsEngine, op: Op, req: ThreadsRpcRequest): Promise<unknown> {
  const { user, requestId } = req
  const ids = requestId ? { requestId } : {}
  switch (op) {
    case 'get': {
      const d = req.data as Static<typeof Ops.get>
      return await engine.getFor(d.thread, user)
    }
    case 'create_room': {
      const d = req.data as Static<typeof Ops.create_room>
      const { record, created } = await engine.createConversation({ owner: user, ...d, ...(d.room ? { id: d.room } : {}) })
      return { thread: record, created }
    }
    case 'llm_request': {
      const d = req.data as Static<typeof Ops.llm_request>
      const message = await engine.postMessage(d.thread, d.text, user, { ...ids, reply: true, ...(d.model ? { model: d.model } : {}), ...(d.session ? { session: d.session } : {}), ...(d.clientId ? { clientId: d.clientId } : {}) })
      return { message, replyId: `reply-${message.id}` }
    }
    case 'post': {
      const d = req.data as Static<typeof Ops.post>
      return await engine.postMessage(d.thread, d.text, user, { ...ids, reply: false, ...(d.session ? { session: d.session } : {}) })
    }
    case 'create_task': {
      const d = req.data as Static<typeof Ops.create_task>
      return await engine.createTask({ task: d.task, owner: user, ...ids, ...(d.parent ? { parent: d.parent } : {}), ...(d.model ? { model: d.model } : {}) })
    }
    case 'cancel': {
      const d = req.data as Static<typeof Ops.cancel>
      const thread = await engine.getFor(d.thread, user)
      if (thread.kind === 'main' || thread.kind === 'conversation') {
        engine.stop(thread.id)
        return { cancelled: [], stopped: true }
      }
      return { cancelled: await engine.cancel(thread.id), stopped: false }
    }
  }
}

/**
 * Answers `skein.rpc.threads.<op>` for every instance in one queue group: the funnel (and any other service)
 * asks the threads engine here instead of over HTTP. Errors come back as `{ ok: false, error: { code, message,
 * status } }` with the same codes and statuses as the HTTP API.
 */
export function serveThreadsRpc (nc: NatsConnection, engine: ThreadsEngine, log: FastifyBaseLogger): Subscription {
  const answer = (m: Msg, reply: ThreadsRpcReply): void => { m.respond(JSON.stringify(reply)) }
  const refuse = (m: Msg, code: string, message: string, status: number): void => answer(m, { ok: false, error: { code, message, status } })
  return nc.subscribe(subjects.allThreadsRpc, {
    queue: 'threads',
    callback: (err, m) => {
      if (err) return
      const op = m.subject.split('.').pop() as Op
      let req: ThreadsRpcRequest
      try {
        req = m.json<ThreadsRpcRequest>()
      } catch {
        return refuse(m, 'THREADS_BAD_REQUEST', 'the request is not JSON', 400)
      }
      if (!(op in Ops)) return refuse(m, 'THREADS_UNKNOWN_OPERATION', `unknown operation "${op}"`, 404)
      if (!checkRequest.Check(req) || !checks[op].Check(req.data)) {
        const first = checks[op].Errors(req?.data ?? {})[0]
        return refuse(m, 'THREADS_VALIDATION', first ? `data${first.instancePath} ${first.message}` : 'the request must be { user, requestId?, data }', 400)
      }
      run(engine, op, req).then(
        (data) => answer(m, { ok: true, data }),
        (e: unknown) => {
          const error = e as { code?: string, statusCode?: number, message?: string }
          const status = typeof error.statusCode === 'number' ? error.statusCode : 500
          if (status >= 500) log.error({ err: e, op }, 'threads request failed')
          refuse(m, status >= 500 ? 'THREADS_INTERNAL' : error.code ?? 'THREADS_BAD_REQUEST', status >= 500 ? 'the threads engine failed; try again' : error.message ?? 'refused', status)
        }
      )
    }
  })
}
