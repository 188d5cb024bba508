import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import { SYSTEM_USER } from '@skein/kit'
import { TERMINAL_STATUSES, type ChatMessage, type ThreadKind, type ThreadMessage, type ThreadRecord, type ThreadStatus, type ThreadTree, type WorkItem } from '@skein/schemas'
import type { ChatModels, ChatResult, ToolCall } from '../models/chat-stream.js'
import { BoundExceededError, MainThreadError, NotAConversationError, StepTimeoutError, ThreadClosedError, ThreadNotFoundError } from './errors.js'
import { MAX_TOOL_ROUNDS, PLANNING_PROMPT, SEARCH_MEMORY_TOOL, SPAWN_SUBTASK_TOOL, TASK_PLAN_FORMAT, instructionsFor, parsePlan } from './assistant.js'
import type { ThreadLog } from './thread-log.js'
import type { ThreadStore } from './thread-store.js'

export const MAIN_THREAD = 'main'

export interface ThreadLimits {
  maxDepth: number
  maxChildren: number
  maxThreadsPerRoot: number
  maxTokensPerRoot: number
  stepTimeoutMs: number
}

export type Enqueue = (item: WorkItem, msgID: string) => Promise<void>

/** Searches memory for the search_memory tool (the chroma-service, over NATS request/reply). */
export type MemorySearch = (query: string, thread: ThreadRecord) => Promise<string>

export interface EngineDeps {
  store: ThreadStore
  log: ThreadLog
  chat: ChatModels
  enqueue: Enqueue
  limits: ThreadLimits
  defaultModel: () => string
  /** Throws (a 400 naming the known models) when no backend serves `model`. */
  checkModel: (model: string) => Promise<void>
  logger: FastifyBaseLogger
  searchMemory: MemorySearch
  /** Tells every instance, this one included, to abort its model calls for these threads. */
  abortEverywhere: (threads: string[]) => void
}

/** Whether `user` may read, join and write to a thread: a private room is for its owner and members only. */
export function canAccess (r: ThreadRecord, user: string): boolean {
  return r.private !== true || user === SYSTEM_USER || r.owner === user || (r.members ?? []).includes(user)
}

/** Who may read a thread: its owner and members when it is private; null when everyone may. */
export const readersOf = (r: ThreadRecord): Set<string> | null => (r.private ? new Set([r.owner, ...(r.members ?? [])]) : null)

/**
 * The fields a thread inherits from its parent: a task in a private room is private to the same people, the
 * room's owner among them (a member of the new thread, whoever owns it).
 */
const accessOf = (r: ThreadRecord): Pick<ThreadRecord, 'private' | 'members'> => {
  const readers = readersOf(r)
  return readers ? { private: true, members: [...readers] } : {}
}
/**
 * Marks the lifecycle events of a private thread, so that the funnel shows them in the private room at the
 * root of its tree instead of the main room.
 */
const visibility = (r: ThreadRecord): { private?: true, root?: string } => (r.private ? { private: true, root: r.root } : {})

const isTerminal = (s: ThreadStatus): boolean => TERMINAL_STATUSES.includes(s)

/** A model answer and the message id its tokens streamed under. */
type Answer = ChatResult & { messageId: string }
const now = (): string => new Date().toISOString()
const TOKEN_PUBLISH_WINDOW = 64
/** A conversation's answer sees this many messages before the one it answers. */
const HISTORY_TURNS = 40

/**
 * The threads engine: the main thread, tasks broken into step threads that run in parallel where they can,
 * reports to the main thread, final answers, cancellation, bounds. Every change goes through the KV store by
 * compare-and-swap and the thread log; every piece of work is a durable work item, so any instance can pick
 * up where another stopped, and every handler is idempotent.
 */
export class ThreadsEngine {
  /** Model calls under way in this process, by thread (a conversation may answer several at once). */
  private readonly inFlight = new Map<string, Set<AbortController>>()
  private readonly store: ThreadStore
  private readonly log: ThreadLog
  private readonly chat: ChatModels
  private readonly enqueue: Enqueue
  private readonly limits: ThreadLimits
  private readonly defaultModel: () => string
  private readonly checkModel: (model: string) => Promise<void>
  private readonly logger: FastifyBaseLogger
  private readonly searchMemory: MemorySearch
  private readonly abortEverywhere: (threads: string[]) => void

  constructor (deps: EngineDeps) {
    this.store = deps.store
    this.log = deps.log
    this.chat = deps.chat
    this.enqueue = deps.enqueue
    this.limits = deps.limits
    this.defaultModel = deps.defaultModel
    this.checkModel = deps.checkModel
    this.logger = deps.logger
    this.searchMemory = deps.searchMemory
    this.abortEverywhere = deps.abortEverywhere
  }

  private record (kind: ThreadKind, fields: { id: string, parent: string | null, root: string, depth: number, task: string, owner: string, model?: string, status: ThreadStatus, dependsOn?: string[], access?: Pick<ThreadRecord, 'private' | 'members'> }): ThreadRecord {
    const ts = now()
    return {
      id: fields.id,
      kind,
      parent: fields.parent,
      root: fields.root,
      depth: fields.depth,
      task: fields.task,
      assistant: { instructions: instructionsFor(kind, fields.task), model: fields.model ?? this.defaultModel() },
      status: fields.status,
      children: [],
      dependsOn: fields.dependsOn ?? [],
      result: null,
      error: null,
      usage: { promptTokens: 0, completionTokens: 0 },
      owner: fields.owner,
      ...fields.access,
      createdAt: ts,
      updatedAt: ts,
      closedAt: null
    }
  }

  /** The main thread: created exactly once (create-if-absent), found again after every restart. */
  async ensureMain (): Promise<ThreadRecord> {
    const main = this.record('main', { id: MAIN_THREAD, parent: null, root: MAIN_THREAD, depth: 0, task: 'Keep the main thread.', owner: 'skein', status: 'open' })
    if (await this.store.create(main)) {
      await this.log.publish(MAIN_THREAD, 'created', { thread: main }, { msgID: 'created:main' })
      this.logger.info('created the main thread')
    }
    const found = await this.store.get(MAIN_THREAD)
    if (!found) throw new Error('the main thread could not be created')
    return found
  }

  async get (id: string): Promise<ThreadRecord> {
    const r = await this.store.get(id)
    if (!r) throw new ThreadNotFoundError(id)
    return r
  }

  /** A thread as `user` may see it: a private room they are not in is "not found", so its name does not leak. */
  async getFor (id: string, user: string): Promise<ThreadRecord> {
    const r = await this.get(id)
    if (!canAccess(r, user)) throw new ThreadNotFoundError(id)
    return r
  }

  /** The thread and its descendants, as `user` may see them. */
  async tree (id: string, user: string): Promise<ThreadTree> {
    const r = await this.getFor(id, user)
    const childIds = r.kind === 'main' ? (await this.store.list({ parent: r.id })).map((c) => c.id) : r.children
    const children = await Promise.all(childIds.map((c) => this.tree(c, user).catch(() => null)))
    return { id: r.id, kind: r.kind, task: r.task, status: r.status, result: r.result, children: children.filter((c): c is ThreadTree => c !== null) }
  }

  /** Threads in a task tree, walked through the children lists (bounded by THREADS_MAX_PER_ROOT, not by the bucket). */
  private async treeSize (root: string): Promise<number> {
    let count = 0
    const queue = [root]
    while (queue.length && count <= this.limits.maxThreadsPerRoot) {
      const r = await this.store.get(queue.shift()!)
      if (!r) continue
      count++
      queue.push(...r.children)
    }
    return count
  }

  /** A task becomes a task thread under `parent` (the main thread by default), then is planned. */
  async createTask (input: { task: string, parent?: string, owner: string, model?: string, requestId?: string }): Promise<ThreadRecord> {
    const parent = await this.getFor(input.parent ?? MAIN_THREAD, input.owner)
    if (input.model) await this.checkModel(input.model)
    if (isTerminal(parent.status)) throw new ThreadClosedError(parent.id, parent.status)
    const depth = parent.kind === 'main' ? 1 : parent.depth + 1
    if (depth > this.limits.maxDepth) throw new BoundExceededError(`depth ${depth} is more than THREADS_MAX_DEPTH (${this.limits.maxDepth})`)
    const id = `t-${randomUUID().slice(0, 12)}`
    const root = parent.kind === 'main' ? id : parent.root
    if (parent.kind !== 'main' && (await this.treeSize(root)) + 1 > this.limits.maxThreadsPerRoot) {
      throw new BoundExceededError(`the task tree would have more than THREADS_MAX_PER_ROOT (${this.limits.maxThreadsPerRoot}) threads`)
    }
    const record = this.record('task', { id, parent: parent.id, root, depth, task: input.task, owner: input.owner, ...(input.model ? { model: input.model } : {}), status: 'planning', access: accessOf(parent) })
    await this.store.create(record)
    if (parent.kind !== 'main') await this.store.update(parent.id, (p) => (p.children.includes(id) ? null : { ...p, children: [...p.children, id] }))
    await this.log.publish(id, 'created', { thread: record }, { msgID: `created:${id}`, ...(input.requestId ? { requestId: input.requestId } : {}) })
    await this.enqueue({ kind: 'plan', thread: id, ...(input.requestId ? { requestId: input.requestId } : {}) }, `plan:${id}`)
    return record
  }

  /**
   * A conversation thread: a room with its own assistant, on the named model, private to its owner and members
   * when asked. Creating a room that exists answers it as it is (`created: false`), if the user may join it.
   */
  async createConversation (input: { owner: string, model?: string, id?: string, private?: boolean, members?: string[] }): Promise<{ record: ThreadRecord, created: boolean }> {
    if (input.model) await this.checkModel(input.model)
    const id = input.id ?? `c-${randomUUID().slice(0, 12)}`
    const access = input.private ? { private: true, members: [...new Set(input.members ?? [])].filter((m) => m !== input.owner) } : {}
    const record = this.record('conversation', { id, parent: MAIN_THREAD, root: id, depth: 1, task: '', owner: input.owner, ...(input.model ? { model: input.model } : {}), status: 'open', access })
    const created = await this.store.create(record)
    if (created) await this.log.publish(id, 'created', { thread: record }, { msgID: `created:${id}` })
    return { record: await this.getFor(id, input.owner), created }
  }

  /**
   * A user message to a thread. By default conversations (the main thread included) answer it, streamed in
   * the thread's events; `reply: false` only posts it (people talking in a room), `reply: true` asks for an
   * answer (on `model` when given). Closed threads refuse. `session` names the socket that sent it, so the
   * funnel can leave the sender out of the echo.
   */
  async postMessage (threadId: string, text: string, user: string, opts: { requestId?: string, reply?: boolean, model?: string, session?: string, clientId?: string } = {}): Promise<ThreadMessage> {
    const thread = await this.getFor(threadId, user)
    if (isTerminal(thread.status)) throw new ThreadClosedError(thread.id, thread.status)
    const conversation = thread.kind === 'main' || thread.kind === 'conversation'
    const reply = opts.reply ?? conversation
    if (reply && !conversation) throw new NotAConversationError(thread.id, thread.kind)
    if (reply && opts.model) await this.checkModel(opts.model)
    const id = `m-${randomUUID()}`
    const body = { id, thread: thread.id, role: 'user' as const, author: user, text, ts: now(), ...(opts.session ? { session: opts.session } : {}), ...(opts.clientId ? { clientId: opts.clientId } : {}) }
    const { seq } = await this.log.publish(thread.id, 'message', body, { msgID: `message:${id}`, ...(opts.requestId ? { requestId: opts.requestId } : {}) })
    if (reply) {
      await this.enqueue({ kind: 'reply', thread: thread.id, message: id, seq, ...(opts.model ? { model: opts.model } : {}), ...(opts.requestId ? { requestId: opts.requestId } : {}) }, `reply:${id}`)
    }
    const { session: _session, clientId: _clientId, ...message } = body
    return { ...message, seq }
  }

  /** Stops the answers under way in a thread (a conversation's, or a step's): the thread stays as it is. */
  stop (threadId: string): void {
    this.abortEverywhere([threadId])
  }

  /** Cancels a thread and every descendant: each gets exactly one terminal event; in-flight calls abort. */
  async cancel (threadId: string): Promise<string[]> {
    const thread = await this.get(threadId)
    if (thread.kind === 'main') throw new MainThreadError('cancelled')
    const cancelled: string[] = []
    const visit = async (id: string): Promise<void> => {
      const changed = await this.store.update(id, (r) => (isTerminal(r.status) ? null : { ...r, status: 'cancelled', closedAt: now(), error: { code: 'THREADS_CANCELLED', message: 'cancelled' } }))
      if (changed?.changed) {
        cancelled.push(id)
        await this.log.publish(id, 'cancelled', { status: 'cancelled', ...visibility(changed.record) }, { msgID: `terminal:${id}` })
        await this.log.publish(id, 'closed', { status: 'cancelled', ...visibility(changed.record) }, { msgID: `closed:${id}` })
      }
      for (const child of changed?.record.children ?? []) await visit(child)
    }
    await visit(threadId)
    this.abortEverywhere(cancelled)
    // A cancelled step leaves its task unable to finish: the task hears of it and fails, rather than wait.
    if (thread.kind === 'step' && thread.parent && cancelled.includes(thread.id)) {
      await this.enqueue({ kind: 'advance', thread: thread.parent }, `advance:${thread.parent}:${thread.id}:cancelled`)
    }
    return cancelled
  }

  /** Aborts this process's model calls for these threads (every instance hears cancels over NATS). */
  abort (threads: string[]): void {
    for (const t of threads) for (const c of this.inFlight.get(t) ?? []) c.abort(new Error('cancelled'))
  }

  /**
   * Runs one work item. Throws to have it redelivered (bounded by the queue's attempts). `attempt` counts its
   * deliveries: an answer streamed again after an instance died mid-answer gets a new message id, and the
   * stream it replaces is closed as interrupted, so no client is left with a message streaming forever.
   */
  async handle (item: WorkItem, attempt = 1): Promise<void> {
    switch (item.kind) {
      case 'plan': return await this.plan(item.thread, attempt)
      case 'step': return await this.runStep(item.thread, attempt)
      case 'advance': return await this.advance(item.thread)
      case 'finalize': return await this.finalize(item.thread, attempt)
      case 'reply': return await this.reply(item.thread, item.message ?? '', item.seq, item.model, attempt)
    }
  }

  /** Errors that another attempt cannot mend: the item is given up at once. */
  isPermanent (err: unknown): boolean {
    return err instanceof BoundExceededError
  }

  /** The last attempt of an item failed: its thread fails (with its parent told), never left running. */
  async giveUp (item: WorkItem, err: unknown): Promise<void> {
    const message = err instanceof Error ? err.message : String(err)
    if (item.kind === 'reply') {
      await this.log.publish(item.thread, 'message', { id: `a-${item.message}`, thread: item.thread, role: 'system', author: 'skein', text: `The assistant could not answer: ${message}`, ts: now() }, { msgID: `reply-failed:${item.message}` })
      return
    }
    await this.fail(item.thread, 'THREADS_WORK_FAILED', `${item.kind} failed after every attempt: ${message}`)
  }

  /**
   * Fails a thread: its open children are cancelled first, then it fails, tells its parent and reports. In
   * that order, a reader who sees the thread failed sees its whole subtree settled, and an instance that dies
   * half-way leaves the thread open for the redelivered item to finish.
   */
  private async fail (id: string, code: string, message: string): Promise<void> {
    const current = await this.store.get(id)
    if (!current || isTerminal(current.status)) return
    for (const child of current.children) {
      const c = await this.store.update(child, (x) => (isTerminal(x.status) ? null : { ...x, status: 'cancelled', closedAt: now() }))
      if (c?.changed) {
        await this.log.publish(child, 'cancelled', { status: 'cancelled', reason: `parent ${id} failed`, ...visibility(c.record) }, { msgID: `terminal:${child}` })
        await this.log.publish(child, 'closed', { status: 'cancelled', ...visibility(c.record) }, { msgID: `closed:${child}` })
        this.abortEverywhere([child])
      }
    }
    const changed = await this.store.update(id, (r) => (isTerminal(r.status) ? null : { ...r, status: 'failed', error: { code, message }, closedAt: now() }))
    if (!changed?.changed) return
    const r = changed.record
    await this.log.publish(id, 'message', { id: `failure-${id}`, thread: id, role: 'system', author: 'skein', text: message, ts: now() }, { msgID: `failure:${id}` })
    await this.log.publish(id, 'failed', { status: 'failed', error: r.error, ...visibility(r) }, { msgID: `terminal:${id}` })
    await this.log.publish(id, 'closed', { status: 'failed', ...visibility(r) }, { msgID: `closed:${id}` })
    await this.report(r, `Failed: ${message}`)
    if (r.parent && r.kind === 'step') await this.enqueue({ kind: 'advance', thread: r.parent }, `advance:${r.parent}:${id}:failed`)
  }

  /** Posts a thread's result to the main thread, exactly once (the message id is the dedup id). */
  private async report (r: ThreadRecord, text: string): Promise<void> {
    if (r.kind === 'main' || r.kind === 'conversation') return
    // A thread of a private room reports to that room (its root), never where everyone reads.
    const to = r.private ? r.root : MAIN_THREAD
    const status = r.status === 'failed' ? 'failed' : 'completed'
    await this.log.publish(to, 'message', { id: `report-${r.id}`, thread: to, role: 'report', author: 'assistant', text, ts: now(), from: r.id, status }, { msgID: `report:${r.id}` })
  }

  private async setStatus (id: string, from: ThreadStatus[], to: ThreadStatus): Promise<ThreadRecord | null> {
    const changed = await this.store.update(id, (r) => (from.includes(r.status) ? { ...r, status: to } : null))
    if (changed?.changed) await this.log.publish(id, 'status', { status: to, ...visibility(changed.record) }, { msgID: `status:${id}:${to}` })
    return changed?.changed ? changed.record : null
  }

  /**
   * Streams a model answer into the thread's log, token by token; aborts on cancel or the step's wall time.
   * A `stoppable` answer (a reply in a conversation) that a user stops ends with what it had so far
   * (finishReason "cancelled") instead of failing.
   */
  private async answer (r: ThreadRecord, messages: ChatMessage[], messageId: string, params?: Record<string, unknown>, opts: { stoppable?: boolean, model?: string, attempt?: number, since?: number } = {}): Promise<Answer> {
    // The budget is per task tree; the main thread and conversations are not tasks and never run out.
    const root = r.kind === 'task' || r.kind === 'step' ? (r.root !== r.id ? await this.store.get(r.root) : r) : null
    const spent = (root?.usage.promptTokens ?? 0) + (root?.usage.completionTokens ?? 0)
    if (root && spent >= this.limits.maxTokensPerRoot) throw new BoundExceededError(`the task has used ${spent} tokens, the limit is THREADS_MAX_TOKENS_PER_ROOT (${this.limits.maxTokensPerRoot})`)
    const publishTokens = params?.response_format === undefined // a plan is for the engine, not for people
    const attempt = opts.attempt ?? 1
    const streamId = attempt > 1 ? `${messageId}~${attempt}` : messageId
    if (attempt > 1 && publishTokens) await this.closeInterrupted(r.id, messageId, attempt, opts.since ?? 0)
    const controller = new AbortController()
    const calls = this.inFlight.get(r.id) ?? new Set<AbortController>()
    this.inFlight.set(r.id, calls.add(controller))
    const wallTime = AbortSignal.timeout(this.limits.stepTimeoutMs)
    const signal = AbortSignal.any([controller.signal, wallTime])
    const pending: Array<Promise<unknown>> = []
    const model = opts.model ?? r.assistant.model
    const started = performance.now()
    let index = 0
    const outOfTime = (): Error => new StepTimeoutError(`the model call ran past THREADS_STEP_TIMEOUT_MS (${this.limits.stepTimeoutMs} ms)`)
    try {
      for await (const e of this.chat.stream({ model, messages, ...(params ? { params } : {}), signal })) {
        if (e.type === 'token' && publishTokens) {
          const i = index++
          const published = this.log.publish(r.id, 'token', { messageId: streamId, index: i, token: e.text }, { msgID: `token:${streamId}:${i}` })
          published.catch(() => {}) // awaited below; never an unhandled rejection in between
          pending.push(published)
          if (pending.length >= TOKEN_PUBLISH_WINDOW) await Promise.all(pending.splice(0))
        }
        if (e.type === 'end') {
          await Promise.all(pending)
          const result = e.result
          await this.addUsage(r, result)
          if (result.finishReason === 'cancelled' && wallTime.aborted && !controller.signal.aborted) throw outOfTime()
          if (result.finishReason === 'cancelled' && opts.stoppable) return { ...result, messageId: streamId }
          if (result.finishReason === 'error' || result.finishReason === 'cancelled') throw new Error(result.error?.message ?? `the answer was ${result.finishReason}`)
          return { ...result, messageId: streamId }
        }
      }
      throw new Error('the answer ended without a result')
    } catch (err) {
      if (wallTime.aborted && !controller.signal.aborted && !(err instanceof StepTimeoutError)) throw outOfTime()
      // Stopped before its first token: an empty answer, not a failure to retry.
      if (!opts.stoppable || !controller.signal.aborted) throw err
      const usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 }
      return { model, requestedModel: model, backend: '', finishReason: 'cancelled', text: '', toolCalls: [], usage, firstTokenMs: null, durationMs: Math.round(performance.now() - started), retries: 0, messageId: streamId }
    } finally {
      calls.delete(controller)
      if (calls.size === 0 && this.inFlight.get(r.id) === calls) this.inFlight.delete(r.id)
      await Promise.allSettled(pending)
    }
  }

  /**
   * Before an answer is streamed again (its instance died mid-answer), each earlier attempt that streamed
   * tokens ends with a message of what it had, marked `interrupted`: it never stays "streaming" for a client.
   */
  private async closeInterrupted (thread: string, messageId: string, attempt: number, since: number): Promise<void> {
    const ids = Array.from({ length: attempt - 1 }, (_x, k) => (k === 0 ? messageId : `${messageId}~${k + 1}`))
    const tokens = new Map<string, Map<number, string>>(ids.map((id) => [id, new Map()]))
    for (const e of await this.log.read(thread, since, 'token')) {
      const d = e.data as { messageId?: string, index?: number, token?: string }
      if (typeof d.messageId === 'string' && typeof d.index === 'number') tokens.get(d.messageId)?.set(d.index, d.token ?? '')
    }
    for (const [id, byIndex] of tokens) {
      if (byIndex.size === 0) continue
      const text = [...byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([, t]) => t).join('')
      await this.log.publish(thread, 'message', { id, thread, role: 'assistant', author: 'assistant', text, ts: now(), finishReason: 'interrupted' }, { msgID: `interrupted:${id}` })
    }
  }

  private async addUsage (r: ThreadRecord, result: ChatResult): Promise<void> {
    const add = (x: ThreadRecord): ThreadRecord => ({ ...x, usage: { promptTokens: x.usage.promptTokens + result.usage.prompt_tokens, completionTokens: x.usage.completionTokens + result.usage.completion_tokens } })
    await this.store.update(r.id, add)
    if (r.root !== r.id && r.root !== MAIN_THREAD) await this.store.update(r.root, add)
  }

  private async plan (id: string, attempt: number): Promise<void> {
    const r = await this.store.get(id)
    if (!r || isTerminal(r.status)) return
    if (r.status === 'running') return await this.runDirect(r, attempt) // a one-step task whose run was interrupted
    if (r.status !== 'planning') {
      if (r.status === 'waiting') await this.enqueue({ kind: 'advance', thread: id }, `advance:${id}:replan`)
      return
    }
    // At the depth limit a task is not broken down further: it runs as one step.
    if (r.depth >= this.limits.maxDepth) return await this.runDirect(r, attempt)
    const planned = await this.answer(r, [
      { role: 'system', content: r.assistant.instructions },
      { role: 'user', content: `${PLANNING_PROMPT}\n\nTask:\n${r.task}` }
    ], `plan-${id}`, { response_format: TASK_PLAN_FORMAT })
    const steps = parsePlan(planned.text, r.task)
    if (steps.length <= 1) return await this.runDirect(r, attempt)
    if (steps.length > this.limits.maxChildren) {
      return await this.fail(id, 'THREADS_BOUND_EXCEEDED', `The plan has ${steps.length} steps; a thread may have at most ${this.limits.maxChildren} (THREADS_MAX_CHILDREN). Nothing was spawned: ask for fewer, larger steps.`)
    }
    const inTree = await this.treeSize(r.root)
    if (inTree + steps.length > this.limits.maxThreadsPerRoot) {
      return await this.fail(id, 'THREADS_BOUND_EXCEEDED', `The plan would bring the task to ${inTree + steps.length} threads; the limit is ${this.limits.maxThreadsPerRoot} (THREADS_MAX_PER_ROOT). Nothing was spawned.`)
    }
    const ids = steps.map((_s, i) => `${id}-s${i + 1}`)
    for (const [i, s] of steps.entries()) {
      const child = this.record('step', {
        id: ids[i]!, parent: id, root: r.root, depth: r.depth + 1, task: s.instructions, owner: r.owner, model: r.assistant.model, status: 'waiting',
        dependsOn: s.depends_on.map((d) => ids[d]!), access: accessOf(r)
      })
      if (await this.store.create(child)) await this.log.publish(child.id, 'created', { thread: child }, { msgID: `created:${child.id}` })
    }
    await this.log.publish(id, 'message', { id: `plan-${id}`, thread: id, role: 'assistant', author: 'assistant', text: `Plan:\n${steps.map((s, i) => `${i + 1}. ${s.title}${s.depends_on.length ? ` (after ${s.depends_on.map((d) => d + 1).join(', ')})` : ''}`).join('\n')}`, ts: now() }, { msgID: `plan-message:${id}` })
    await this.store.update(id, (x) => (x.status === 'planning' ? { ...x, children: ids, status: 'waiting' } : null))
    await this.log.publish(id, 'status', { status: 'waiting', children: ids, ...visibility(r) }, { msgID: `status:${id}:waiting` })
    await this.enqueue({ kind: 'advance', thread: id }, `advance:${id}:planned`)
  }

  /** Starts the steps whose dependencies are done; finalizes when all are; fails when one failed. */
  private async advance (id: string): Promise<void> {
    const r = await this.store.get(id)
    if (!r || isTerminal(r.status)) return
    const children = (await Promise.all(r.children.map((c) => this.store.get(c)))).filter((c): c is ThreadRecord => c !== null)
    const failed = children.find((c) => c.status === 'failed' || c.status === 'cancelled')
    if (failed) return await this.fail(id, 'THREADS_STEP_FAILED', `Step ${failed.id} ${failed.status}: ${failed.error?.message ?? ''}`.trim())
    if (children.every((c) => c.status === 'completed')) return await this.enqueue({ kind: 'finalize', thread: id }, `finalize:${id}`)
    const done = new Set(children.filter((c) => c.status === 'completed').map((c) => c.id))
    for (const c of children) {
      if (c.status === 'waiting' && c.dependsOn.every((d) => done.has(d))) await this.enqueue({ kind: 'step', thread: c.id }, `step:${c.id}`)
    }
  }

  private async runStep (id: string, attempt: number): Promise<void> {
    const r = await this.store.get(id)
    if (!r) return
    if (r.status === 'completed') return await this.afterComplete(r)
    if (isTerminal(r.status)) return
    await this.runDirect(r, attempt)
  }

  /** Runs a thread's task as one answer (a step, or a task that needs no breaking down), then completes it. */
  private async runDirect (r: ThreadRecord, attempt: number): Promise<void> {
    const running = await this.setStatus(r.id, ['waiting', 'planning', 'running'], 'running') ?? await this.store.get(r.id)
    if (!running || isTerminal(running.status)) return
    const inputs = await Promise.all(running.dependsOn.map((d) => this.store.get(d)))
    const context = inputs.filter((x): x is ThreadRecord => x !== null).map((x) => `Result of "${x.task.slice(0, 80)}":\n${x.result ?? ''}`)
    const result = await this.answerWithTools(running, [
      { role: 'system', content: running.assistant.instructions },
      { role: 'user', content: context.length ? `${running.task}\n\nResults of the steps this one builds on:\n\n${context.join('\n\n')}` : running.task }
    ], `answer-${r.id}`, attempt)
    await this.complete(running, result.text, result.messageId)
  }

  /**
   * An answer that may call tools first: memory search, and (below the depth limit) spawning a subtask,
   * which goes the same path as planning and inside the same bounds. At most MAX_TOOL_ROUNDS rounds.
   */
  private async answerWithTools (r: ThreadRecord, messages: ChatMessage[], messageId: string, attempt: number): Promise<Answer> {
    const tools = [SEARCH_MEMORY_TOOL, SPAWN_SUBTASK_TOOL]
    let conversation = messages
    for (let round = 0; round <= MAX_TOOL_ROUNDS; round++) {
      const last = round === MAX_TOOL_ROUNDS
      const result = await this.answer(r, conversation, round ? `${messageId}-${round}` : messageId, last ? undefined : { tools, tool_choice: 'auto' }, { attempt })
      if (result.finishReason !== 'tool_calls' || result.toolCalls.length === 0) return result
      const outputs = await Promise.all(result.toolCalls.map(async (call) => ({ role: 'tool' as const, tool_call_id: call.id, content: await this.runTool(r, call) })))
      conversation = [...conversation, { role: 'assistant', content: result.text || null, tool_calls: result.toolCalls }, ...outputs]
    }
    throw new Error('unreachable: the last round offers no tools')
  }

  private async runTool (r: ThreadRecord, call: ToolCall): Promise<string> {
    let args: Record<string, unknown>
    try {
      args = JSON.parse(call.function.arguments || '{}') as Record<string, unknown>
    } catch {
      return `The arguments of ${call.function.name} were not JSON; call it again with JSON arguments.`
    }
    const text = (v: unknown): string => (typeof v === 'string' ? v.trim() : '')
    try {
      switch (call.function.name) {
        case 'search_memory': {
          if (!text(args.query)) return 'search_memory needs a query.'
          const found = await this.searchMemory(text(args.query), r)
          await this.log.publish(r.id, 'message', { id: `tool-${r.id}-${call.id}`, thread: r.id, role: 'system', author: 'skein', text: `Searched memory for "${text(args.query)}":\n${found}`, ts: now() }, { msgID: `tool:${r.id}:${call.id}` })
          return found
        }
        case 'spawn_subtask': {
          if (!text(args.task)) return 'spawn_subtask needs a task.'
          try {
            const sub = await this.createTask({ task: text(args.task), parent: r.id, owner: r.owner, model: r.assistant.model })
            return `Started subtask ${sub.id}; its result will be reported to the main thread.`
          } catch (err) {
            if (!(err instanceof BoundExceededError)) throw err
            // The thread says so, where people see it, instead of spawning.
            await this.log.publish(r.id, 'message', { id: `bound-${r.id}-${call.id}`, thread: r.id, role: 'system', author: 'skein', text: `Not spawned: ${err.message}`, ts: now() }, { msgID: `bound:${r.id}:${call.id}` })
            return `Not spawned: ${err.message}. Do this part yourself.`
          }
        }
        default:
          return `There is no tool named ${call.function.name}.`
      }
    } catch (err) {
      // A bound is an answer the model should hear, not a failure of the step.
      return `The tool refused: ${err instanceof Error ? err.message : String(err)}`
    }
  }

  /** Completes a thread with its answer; `messageId` is the one its tokens streamed under. */
  private async complete (r: ThreadRecord, text: string, messageId: string): Promise<void> {
    const changed = await this.store.update(r.id, (x) => (isTerminal(x.status) ? null : { ...x, status: 'completed', result: text, closedAt: now() }))
    const record = changed?.record ?? r
    if (record.status !== 'completed') return // cancelled meanwhile: its terminal event is already out
    await this.afterComplete(record, messageId)
  }

  /** Everything that follows completion, each part idempotent, so a redelivery finishes what a crash left. */
  private async afterComplete (r: ThreadRecord, messageId = `answer-${r.id}`): Promise<void> {
    await this.log.publish(r.id, 'message', { id: messageId, thread: r.id, role: 'assistant', author: 'assistant', text: r.result ?? '', ts: now() }, { msgID: `answer:${r.id}` })
    await this.report(r, r.result ?? '')
    await this.log.publish(r.id, 'completed', { status: 'completed', result: r.result, ...visibility(r) }, { msgID: `terminal:${r.id}` })
    await this.log.publish(r.id, 'closed', { status: 'completed', ...visibility(r) }, { msgID: `closed:${r.id}` })
    if (r.kind === 'step' && r.parent) await this.enqueue({ kind: 'advance', thread: r.parent }, `advance:${r.parent}:${r.id}`)
  }

  /** Every step is done: the task writes its final answer, posts it to the main thread, completes and closes. */
  private async finalize (id: string, attempt: number): Promise<void> {
    const r = await this.store.get(id)
    if (!r) return
    if (r.status === 'completed') return await this.afterComplete(r)
    if (isTerminal(r.status)) return
    const children = (await Promise.all(r.children.map((c) => this.store.get(c)))).filter((c): c is ThreadRecord => c !== null)
    const result = await this.answer(r, [
      { role: 'system', content: r.assistant.instructions },
      { role: 'user', content: `Write the final answer to the task from the results of its steps.\n\nTask:\n${r.task}\n\n${children.map((c, i) => `Step ${i + 1} (${c.task.slice(0, 80)}):\n${c.result ?? ''}`).join('\n\n')}` }
    ], `answer-${id}`, undefined, { attempt })
    await this.complete(r, result.text, result.messageId)
  }

  /**
   * A conversation's assistant answers the user message, with the HISTORY_TURNS messages before it (on `model`
   * when asked). `seq` (the message's) lets it read only the end of a long thread.
   */
  private async reply (id: string, messageId: string, seq: number | undefined, model: string | undefined, attempt: number): Promise<void> {
    const r = await this.store.get(id)
    if (!r || isTerminal(r.status)) return
    // Items queued before they carried the message's seq read the whole thread.
    const history = seq === undefined ? await this.log.messages(id) : await this.log.recentMessages(id, seq, HISTORY_TURNS + 1)
    const upTo = history.findIndex((m) => m.id === messageId)
    if (upTo < 0) return
    if (history.some((m) => m.inReplyTo === messageId && m.finishReason !== 'interrupted')) return // already answered (a redelivery)
    const turns: ChatMessage[] = history.slice(Math.max(0, upTo - HISTORY_TURNS), upTo + 1)
      .filter((m) => m.role === 'user' || m.role === 'assistant' || m.role === 'report')
      .map((m) => ({ role: m.role === 'user' ? 'user' as const : 'assistant' as const, content: m.role === 'report' ? `[report from ${m.from ?? 'a thread'}] ${m.text}` : m.text }))
    const result = await this.answer(r, [{ role: 'system', content: r.assistant.instructions }, ...turns], `reply-${messageId}`, undefined, { stoppable: true, attempt, since: history[upTo]!.seq, ...(model ? { model } : {}) })
    await this.log.publish(id, 'message', {
      id: result.messageId,
      thread: id,
      role: 'assistant',
      author: 'assistant',
      text: result.text,
      ts: now(),
      inReplyTo: messageId,
      model: result.model,
      finishReason: result.finishReason === 'cancelled' ? 'stopped' : result.finishReason,
      usage: { promptTokens: result.usage.prompt_tokens, completionTokens: result.usage.completion_tokens }
    }, { msgID: `reply:${messageId}` })
  }
}
