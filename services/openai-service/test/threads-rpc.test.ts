import { test } from 'tap'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { subjects } from '@skein/bus'
import type { ThreadEvent, ThreadMessage, ThreadRecord } from '@skein/schemas'
import { build, nats, simulator, until as untilEvery } from './helper.js'

// The threads engine over NATS request/reply (`skein.rpc.threads.<op>`), as the funnel asks it: a client of its
// own connects to the test's NATS and sends `{ user, requestId?, data }`; answers are `{ ok, data | error }`.

/** Polls as the engine's answers come: every 50 ms, for 15 s at most. */
const until = async <V>(what: string, probe: () => Promise<V | undefined | null | false>, timeoutMs = 15_000): Promise<V> => await untilEvery(what, probe, timeoutMs, 50)

/** Every field an answer's `data` may hold, by operation (a record, a room, a message, a cancel). */
type Data = Partial<ThreadRecord> & Partial<Omit<ThreadMessage, 'id' | 'thread'>> & { created?: boolean, thread?: ThreadRecord, message?: ThreadMessage, replyId?: string, cancelled?: string[], stopped?: boolean }
interface Reply { ok: boolean, data?: Data, error?: { code: string, message: string, status: number } }

test('the threads engine answers over NATS request/reply', async (t) => {
  const n = await nats(t)
  const base = await simulator(t, { SIM_TOKENS_PER_SECOND: '100' })
  const app = await build(t, { NATS_URL: n.url, OPENAI_BASE_URL: base, OPENAI_API_KEY: 'sim', MODEL_BACKEND: 'simulator', THREADS_WORKERS: '4' })
  const nc: NatsConnection = await connect({ servers: n.url })
  t.teardown(() => nc.close())
  const ask = async (op: string, user: string, data: Record<string, unknown>, requestId?: string): Promise<Reply> => {
    const m = await nc.request(subjects.threadsRpc(op), JSON.stringify({ user, data, ...(requestId ? { requestId } : {}) }), { timeout: 5_000 })
    return m.json<Reply>()
  }
  const messages = async (thread: string): Promise<ThreadMessage[]> => await app.threads.log.messages(thread)
  const events = async (thread: string): Promise<ThreadEvent[]> => await app.threads.log.read(thread)

  await t.test('get: a thread as the user may see it', async (t) => {
    const main = await ask('get', 'alice', { thread: 'main' })
    t.equal(main.ok, true)
    t.equal((main.data as ThreadRecord).id, 'main')
    t.equal((main.data as ThreadRecord).kind, 'main')
    const missing = await ask('get', 'alice', { thread: 'nope' })
    t.same(missing, { ok: false, error: { code: 'THREADS_NOT_FOUND', message: 'No thread nope', status: 404 } })
  })

  await t.test('create_room: private to its owner and members, idempotent', async (t) => {
    const first = await ask('create_room', 'alice', { room: 'harbour', private: true, members: ['bob', 'alice'] })
    t.equal(first.ok, true)
    t.equal(first.data?.created, true)
    const room = first.data?.thread as ThreadRecord
    t.equal(room.id, 'harbour')
    t.equal(room.kind, 'conversation')
    t.equal(room.owner, 'alice')
    t.equal(room.private, true)
    t.same(room.members, ['bob'], 'the owner is not listed among the members')
    const again = await ask('create_room', 'alice', { room: 'harbour', private: true, members: ['bob'] })
    t.equal(again.data?.created, false, 'creating it again answers the room as it is')
    t.same(again.data?.thread, room)
    t.equal((await events('harbour')).filter((e) => e.type === 'created').length, 1, 'one created event')

    const stranger = await ask('get', 'carol', { thread: 'harbour' })
    t.same(stranger, { ok: false, error: { code: 'THREADS_NOT_FOUND', message: 'No thread harbour', status: 404 } }, 'a non-member is told it does not exist')
    const joining = await ask('create_room', 'carol', { room: 'harbour' })
    t.equal(joining.error?.status, 404, 'nor can a non-member get in by creating it')
    t.equal((await ask('get', 'bob', { thread: 'harbour' })).data?.id, 'harbour', 'a member may read it')
    t.equal((await ask('get', 'skein', { thread: 'harbour' })).data?.id, 'harbour', 'and so may Skein\'s own services (user "skein")')
    t.equal((await ask('llm_request', 'carol', { thread: 'harbour', text: 'let me in' })).error?.status, 404, 'a non-member cannot write to it')
  })

  await t.test('a task a member starts in a private room is readable by the room\'s owner and members, no one else', async (t) => {
    const created = await ask('create_task', 'bob', { task: 'Note the tides in 20 words', parent: 'harbour' })
    t.equal(created.ok, true)
    const task = created.data as ThreadRecord
    t.equal(task.private, true, 'private like its room')
    for (const user of ['alice', 'bob']) t.equal((await ask('get', user, { thread: task.id })).data?.id, task.id, `${user} may read it`)
    t.equal((await ask('get', 'carol', { thread: task.id })).error?.status, 404, 'a stranger may not')
    await ask('cancel', 'bob', { thread: task.id })
  })

  let posted: ThreadMessage | undefined
  await t.test('post: a user message, no assistant reply', async (t) => {
    const res = await ask('post', 'bob', { thread: 'harbour', text: 'Morning, everyone', session: 's-1' }, 'rpc-post-1')
    t.equal(res.ok, true)
    posted = res.data as unknown as ThreadMessage
    t.equal(posted.role, 'user')
    t.equal(posted.author, 'bob')
    t.equal(posted.text, 'Morning, everyone')
    t.notOk('session' in posted, 'the sending socket is not part of the message')
    const stored = (await messages('harbour')).find((m) => m.id === posted!.id)
    t.equal(stored?.seq, posted.seq, 'it is in the room\'s log at the sequence number it was given')
    // Checked again at the end, once the replies below have had their time: none ever answers this one.
  })

  await t.test('llm_request: the reply is streamed into the room, on the model asked for', async (t) => {
    const res = await ask('llm_request', 'alice', { thread: 'harbour', text: 'What makes a good harbour for small boats?' })
    t.equal(res.ok, true)
    const message = res.data?.message as ThreadMessage
    t.equal(message.role, 'user')
    t.equal(res.data?.replyId, `reply-${message.id}`)
    const reply = await until('the reply', async () => (await messages('harbour')).find((m) => m.id === res.data?.replyId))
    t.equal(reply.role, 'assistant')
    t.equal(reply.inReplyTo, message.id)
    t.equal(reply.model, 'skein-sim-1', 'the room\'s model')
    t.equal(reply.finishReason, 'stop')
    t.ok(reply.usage && reply.usage.completionTokens > 0, 'with its usage')
    t.match(reply.text, /harbour|boats/)
    const tokens = (await events('harbour')).filter((e) => e.type === 'token' && e.data.messageId === reply.id).map((e) => e.data.token).join('')
    t.equal(tokens, reply.text, 'streamed token by token')

    const other = await ask('llm_request', 'bob', { thread: 'harbour', text: 'And for a ferry?', model: 'skein-sim-mini' })
    const otherReply = await until('the reply on the other model', async () => (await messages('harbour')).find((m) => m.id === other.data?.replyId))
    t.equal(otherReply.model, 'skein-sim-mini', 'the model named in the request answers')

    const unknown = await ask('llm_request', 'alice', { thread: 'harbour', text: 'Anyone there?', model: 'gpt-nope' })
    t.equal(unknown.ok, false)
    t.equal(unknown.error?.status, 400)
    t.equal(unknown.error?.code, 'OPENAI_UNKNOWN_MODEL')
    t.match(unknown.error?.message, /known models: skein-sim-1, skein-sim-mini/)
    t.notOk((await messages('harbour')).some((m) => m.text === 'Anyone there?'), 'and nothing is posted')
  })

  await t.test('create_task and cancel: a task is cancelled, an answer in a conversation is stopped', async (t) => {
    const created = await ask('create_task', 'alice', { task: '1. Note the tides in 300 words\n2. Note the winds in 300 words' }, 'rpc-task-1')
    t.equal(created.ok, true)
    const task = created.data as ThreadRecord
    t.equal(task.kind, 'task')
    t.equal(task.parent, 'main')
    t.equal(task.owner, 'alice')
    const cancelled = await ask('cancel', 'alice', { thread: task.id })
    t.equal(cancelled.ok, true)
    t.equal(cancelled.data?.stopped, false)
    t.ok(cancelled.data?.cancelled?.includes(task.id), 'the task is cancelled')
    t.equal((await app.threads.engine.get(task.id)).status, 'cancelled')

    const long = await ask('llm_request', 'alice', { thread: 'harbour', text: 'Tell me the history of harbours in 600 words' })
    await until('the answer to start', async () => (await events('harbour')).some((e) => e.type === 'token' && e.data.messageId === long.data?.replyId))
    const stop = await ask('cancel', 'alice', { thread: 'harbour' })
    t.same(stop, { ok: true, data: { cancelled: [], stopped: true } }, 'a conversation is not cancelled: its answer is stopped')
    const reply = await until('the stopped reply', async () => (await messages('harbour')).find((m) => m.id === long.data?.replyId))
    t.equal(reply.finishReason, 'stopped')
    t.ok(reply.text.split(/\s+/).length < 600, `it ends with what it had (${reply.text.split(/\s+/).length} words)`)
    t.equal((await app.threads.engine.get('harbour')).status, 'open', 'the room stays open')
    t.equal((await ask('cancel', 'alice', { thread: 'main' })).data?.stopped, true, 'the main thread too is only stopped')
  })

  await t.test('bad requests: validation, unknown operations, not JSON', async (t) => {
    const badId = await ask('get', 'alice', { thread: 'a.b' })
    t.equal(badId.error?.status, 400)
    t.equal(badId.error?.code, 'THREADS_VALIDATION')
    t.match(badId.error?.message, /^data\/thread /, 'the message names the field')
    const missing = await ask('post', 'alice', { thread: 'harbour' })
    t.equal(missing.error?.code, 'THREADS_VALIDATION')
    t.match(missing.error?.message, /text/)
    const noUser = (await nc.request(subjects.threadsRpc('get'), JSON.stringify({ data: { thread: 'main' } }), { timeout: 5_000 })).json<Reply>()
    t.equal(noUser.error?.code, 'THREADS_VALIDATION', 'a request names its user')
    const notJson = (await nc.request(subjects.threadsRpc('get'), 'hello', { timeout: 5_000 })).json<Reply>()
    t.same(notJson, { ok: false, error: { code: 'THREADS_BAD_REQUEST', message: 'the request is not JSON', status: 400 } })
    const unknownOp = await ask('explode', 'alice', {})
    t.same(unknownOp, { ok: false, error: { code: 'THREADS_UNKNOWN_OPERATION', message: 'unknown operation "explode"', status: 404 } })
  })

  t.notOk((await messages('harbour')).some((m) => m.inReplyTo === posted?.id), 'the posted message was never answered')
})
