import { APIError, ConflictError, ConnectionLostError, SkeinClient, type RealtimeClient } from '@skein/client'
import type { MemorySearchQuery } from '@skein/schemas'
import { loadSession, loadSnapshot, saveSession, saveSnapshot } from './persist'
import { MAIN, ROOM_LIMIT, answerText, type AppState, type CurrentResponse, type Media, type MediaSlot, type Session } from './state'
import type { Store } from './store'

const TYPING_EVERY_MS = 2_500
const TYPING_IDLE_MS = 3_000
const TYPING_SHOWN_MS = 6_000
const IMAGE_SIZE = '512x512'

/** A readable line for an error, with its code when the server gave one. */
export function describe (err: unknown): string {
  if (err instanceof APIError) return `${err.message} (${err.code})`
  if (err instanceof Error) return err.message
  return String(err)
}

const uid = (): string => crypto.randomUUID()

/**
 * What the app does: every action a component asks for goes through here, talks to the funnel through the SDK,
 * and puts what it produced (answers, media URLs, results, errors) into the store. Components only read the
 * store and call these methods. The socket is opened once, on sign-in (or on load when signed in already).
 */
export class AppController {
  client: SkeinClient | null = null
  private typingRoom: string | null = null
  private typingSentAt = 0
  private typingTimer: ReturnType<typeof setTimeout> | undefined
  private readonly typingClear = new Map<string, ReturnType<typeof setTimeout>>()
  private readonly historyLoaded = new Set<string>()
  private readonly spoken = new Set<string>()
  private unload: (() => void) | null = null
  private collectionsAsked = false

  constructor (private readonly store: Store, private readonly funnelUrl: string) {}

  private get state (): AppState { return this.store.getState() }
  private get rt (): RealtimeClient {
    if (!this.client) throw new Error('not signed in')
    return this.client.realtime
  }

  private notice (text: string): void {
    this.store.dispatch({ type: 'notice', notice: { id: uid(), text } })
  }

  private async busy<T> (key: string, what: string, fn: () => Promise<T>): Promise<T | undefined> {
    this.store.dispatch({ type: 'busy', key, busy: true })
    try {
      return await fn()
    } catch (err) {
      this.notice(`${what} failed: ${describe(err)}`)
      return undefined
    } finally {
      this.store.dispatch({ type: 'busy', key, busy: false })
    }
  }

  // ── signing in, the socket ──────────────────────────────────────────────────────────────────────────────

  /** On load: a kept sign-in starts the app at once (the socket opens, this tab's rooms resume). */
  boot (): void {
    const session = loadSession()
    if (session && Date.parse(session.expiresAt) > Date.now()) this.start(session)
    else if (session) saveSession(null)
  }

  async signIn (user: string): Promise<void> {
    await this.busy('sign_in', 'Signing in', async () => {
      const answer = await new SkeinClient({ baseURL: this.funnelUrl, maxRetries: 1 }).auth.token(user.trim())
      const session: Session = { user: answer.user, token: answer.token, expiresAt: answer.expiresAt }
      saveSession(session)
      this.start(session)
    })
  }

  signOut (): void {
    this.client?.realtime.close()
    this.client = null
    this.unload?.()
    saveSession(null)
    saveSnapshot(null)
    this.historyLoaded.clear()
    this.collectionsAsked = false
    this.store.dispatch({ type: 'signed_out' })
  }

  private async token ({ refresh }: { refresh: boolean }): Promise<string | undefined> {
    const s = this.state.session
    if (!s) return undefined
    if (!refresh && Date.parse(s.expiresAt) - Date.now() > 60_000) return s.token
    const answer = await new SkeinClient({ baseURL: this.funnelUrl }).auth.token(s.user)
    const session: Session = { user: answer.user, token: answer.token, expiresAt: answer.expiresAt }
    saveSession(session)
    this.store.dispatch({ type: 'signed_in', session })
    return session.token
  }

  private start (session: Session): void {
    this.store.dispatch({ type: 'signed_in', session })
    const snapshot = loadSnapshot(session.user)
    if (snapshot) this.store.dispatch({ type: 'restored', state: restorable(snapshot.state) })
    const client = new SkeinClient({
      baseURL: this.funnelUrl,
      token: async (o) => await this.token(o),
      ...(snapshot ? { resume: snapshot.positions } : {})
    })
    this.client = client
    const rt = client.realtime
    const d = this.store.dispatch
    rt.onState((state) => d({ type: 'connection', state }))
    rt.on('room_joined', (data) => d({ type: 'room_joined', data }))
    rt.on('presence', (data) => d({ type: 'presence', data }))
    rt.on('user_typing', (data) => this.onTyping(data.room, data.user, data.typing))
    rt.on('new_message', (data) => {
      this.clearTyping(data.room, data.user)
      d({ type: 'new_message', data })
    })
    rt.on('llm_token', (data) => d({ type: 'llm_token', data }))
    rt.on('llm_complete', (data) => {
      d({ type: 'llm_complete', data })
      this.maybeSpeak()
    })
    rt.on('thread_created', (data) => d({ type: 'thread_created', data }))
    rt.on('thread_updated', (data) => {
      d({ type: 'thread_updated', data })
      this.refreshShownThread(data.thread)
    })
    rt.on('thread_closed', (data) => {
      d({ type: 'thread_closed', data })
      this.refreshShownThread(data.thread)
    })
    rt.on('error', (data) => this.notice(`The server said: ${data.message} (${data.code})`))
    rt.on('resume_gap', (gap) => {
      this.notice(`Some of room ${gap.room} is no longer kept; reloading its messages.`)
      void this.loadHistory(gap.room, true)
    })

    // Keep this tab's rooms and their positions when the page goes away, to resume after a reload.
    const keep = (): void => {
      if (this.client === client && this.state.session) saveSnapshot({ user: this.state.session.user, state: this.state, positions: rt.positions() })
    }
    const onHidden = (): void => { if (document.visibilityState === 'hidden') keep() }
    window.addEventListener('pagehide', keep)
    document.addEventListener('visibilitychange', onHidden)
    this.unload = () => {
      window.removeEventListener('pagehide', keep)
      document.removeEventListener('visibilitychange', onHidden)
    }

    rt.connect()
    if (snapshot) {
      for (const room of Object.keys(snapshot.positions)) this.historyLoaded.add(room)
      for (const room of this.state.roomOrder) if (!(room in snapshot.positions)) void this.joinRoom(room, { select: false })
      this.maybeSpeak()
    } else {
      void this.joinRoom(MAIN, { select: true })
      void this.loadTree()
    }
  }

  /** Tries to reconnect now rather than at the next attempt. */
  retryNow (): void { this.client?.realtime.retryNow() }

  // ── rooms ───────────────────────────────────────────────────────────────────────────────────────────────

  selectRoom (room: string): void {
    this.store.dispatch({ type: 'room_selected', room })
  }

  async joinRoom (room: string, opts: { select?: boolean } = {}): Promise<boolean> {
    const joined = await this.busy('join_room', `Joining room ${room}`, async () => await this.rt.join(room))
    if (!joined) return false
    if (opts.select !== false) this.selectRoom(room)
    void this.loadHistory(room)
    return true
  }

  async createRoom (opts: { room?: string, model?: string, private?: boolean, members?: string[] }): Promise<boolean> {
    const ack = await this.busy('create_room', 'Creating the room', async () => await this.rt.request('create_room', {
      ...(opts.room ? { room: opts.room } : {}),
      ...(opts.model ? { model: opts.model } : {}),
      ...(opts.private ? { private: true, members: opts.members ?? [] } : {})
    }))
    if (!ack) return false
    return await this.joinRoom(ack.room)
  }

  async leaveRoom (room: string): Promise<void> {
    await this.busy('leave_room', `Leaving room ${room}`, async () => {
      await this.rt.leave(room)
      this.historyLoaded.delete(room)
      this.store.dispatch({ type: 'room_left', room })
    })
  }

  /** The room's earlier messages (once per room and page, unless the log lost what we missed). */
  private async loadHistory (room: string, again = false): Promise<void> {
    if (this.historyLoaded.has(room) && !again) return
    this.historyLoaded.add(room)
    try {
      // The newest page: a room that has lived for months is not loaded whole.
      const page = await this.client!.threads.messagePage(room, { limit: ROOM_LIMIT })
      this.store.dispatch({ type: 'history', room, messages: page.messages, earlier: page.more ? page.messages[0]!.seq : null })
    } catch (err) {
      this.historyLoaded.delete(room)
      this.notice(`Loading the messages of ${room} failed: ${describe(err)}`)
    }
  }

  /** The page of the room's log before the oldest message shown ("Load earlier messages"). */
  async loadEarlier (room: string): Promise<void> {
    const before = this.state.rooms[room]?.earlier
    if (before === null || before === undefined) return
    // Messages arriving while the page loads must not cut the room's oldest ones: that would leave a gap above them.
    this.store.dispatch({ type: 'keep_all', room })
    await this.busy(`earlier:${room}`, `Loading earlier messages of ${room}`, async () => {
      const page = await this.client!.threads.messagePage(room, { before, limit: ROOM_LIMIT })
      this.store.dispatch({ type: 'history', room, messages: page.messages, older: true, earlier: page.more ? page.messages[0]!.seq : null })
    })
  }

  // ── typing ──────────────────────────────────────────────────────────────────────────────────────────────

  /** The user typed in the composer: others see it (at most every few seconds; it lapses when they stop). */
  typing (): void {
    const room = this.state.currentRoom
    if (this.typingRoom && this.typingRoom !== room) this.stopTyping()
    const now = Date.now()
    if (now - this.typingSentAt > TYPING_EVERY_MS) {
      this.client?.realtime.notify('typing', { room, typing: true })
      this.typingSentAt = now
      this.typingRoom = room
    }
    clearTimeout(this.typingTimer)
    this.typingTimer = setTimeout(() => this.stopTyping(), TYPING_IDLE_MS)
  }

  private stopTyping (): void {
    clearTimeout(this.typingTimer)
    if (this.typingRoom) this.client?.realtime.notify('typing', { room: this.typingRoom, typing: false })
    this.typingRoom = null
    this.typingSentAt = 0
  }

  private onTyping (room: string, user: string, typing: boolean): void {
    const key = `${room}\n${user}`
    clearTimeout(this.typingClear.get(key))
    if (!typing) {
      this.clearTyping(room, user)
      return
    }
    this.store.dispatch({ type: 'typing', room, user, until: Date.now() + TYPING_SHOWN_MS })
    this.typingClear.set(key, setTimeout(() => this.clearTyping(room, user), TYPING_SHOWN_MS))
  }

  private clearTyping (room: string, user: string): void {
    const key = `${room}\n${user}`
    clearTimeout(this.typingClear.get(key))
    this.typingClear.delete(key)
    if (this.state.rooms[room]?.typing[user] !== undefined) this.store.dispatch({ type: 'typing', room, user, until: null })
  }

  // ── messages and answers ────────────────────────────────────────────────────────────────────────────────

  /** Posts a message to the current room (shown at once, confirmed by the server's ack). */
  async sendMessage (text: string): Promise<void> {
    const room = this.state.currentRoom
    const user = this.state.session?.user ?? ''
    const clientId = uid()
    this.stopTyping()
    this.store.dispatch({ type: 'own_message', room, clientId, user, text })
    try {
      const ack = await this.rt.send(room, text, { clientId })
      this.store.dispatch({ type: 'own_message_acked', room, clientId, id: ack.id, seq: ack.seq })
    } catch (err) {
      const error = err instanceof ConnectionLostError
        ? 'the connection dropped before the server confirmed it; if it arrived it shows up when the connection is back'
        : describe(err)
      this.store.dispatch({ type: 'own_message_failed', room, clientId, error })
      this.notice(`Sending the message failed: ${error}`)
    }
  }

  /**
   * Asks the room's assistant. The display shows the answer as it streams; with `draw` a picture of the
   * prompt is made beside it, with `speak` the answer is read aloud once complete.
   */
  async ask (text: string, opts: { speak?: boolean, draw?: boolean, model?: string } = {}): Promise<void> {
    const room = this.state.currentRoom
    const user = this.state.session?.user ?? ''
    const clientId = uid()
    const [w, h] = IMAGE_SIZE.split('x').map(Number) as [number, number]
    const response: CurrentResponse = {
      id: clientId,
      kind: 'answer',
      title: text,
      room,
      ...(opts.speak ? { speak: true, audio: { state: 'pending' } } : {}),
      ...(opts.draw ? { image: { state: 'pending', width: w, height: h } } : {})
    }
    this.stopTyping()
    this.store.dispatch({ type: 'response', response })
    this.store.dispatch({ type: 'own_message', room, clientId, user, text })
    if (opts.draw) void this.draw(response.id, text)
    try {
      const ack = await this.rt.request('llm_request', { room, message: text, ...(opts.model ? { model: opts.model } : {}) })
      this.store.dispatch({ type: 'own_message_acked', room, clientId, id: ack.id, seq: ack.seq })
      this.store.dispatch({ type: 'response_patch', id: response.id, patch: { messageId: ack.messageId } })
      this.maybeSpeak()
    } catch (err) {
      const error = err instanceof ConnectionLostError
        ? 'the connection dropped before the question was confirmed; if it arrived, its answer shows in the room when the connection is back'
        : describe(err)
      this.store.dispatch({ type: 'own_message_failed', room, clientId, error })
      this.store.dispatch({ type: 'response_patch', id: response.id, patch: { error, ...(opts.speak ? { audio: { state: 'failed', error: 'no answer to read' } } : {}) } })
      this.notice(`Asking the assistant failed: ${error}`)
    }
  }

  private async draw (responseId: string, prompt: string): Promise<void> {
    let slot: MediaSlot
    try {
      const item = await this.client!.media.image({ prompt: prompt.slice(0, 4000), size: IMAGE_SIZE })
      const [width, height] = IMAGE_SIZE.split('x').map(Number) as [number, number]
      const media: Media = { kind: 'image', url: await this.client!.media.url(item), mime: item.mime, size: item.size, width, height }
      slot = { state: 'ready', media }
    } catch (err) {
      slot = { state: 'failed', error: describe(err) }
      this.notice(`Making the picture failed: ${describe(err)}`)
    }
    this.store.dispatch({ type: 'response_patch', id: responseId, patch: { image: slot } })
  }

  /** Reads the current answer aloud once it is complete (when asked to). */
  private maybeSpeak (): void {
    const r = this.state.response
    if (!r?.speak || !r.room || !r.messageId || r.audio?.state !== 'pending' || this.spoken.has(r.id)) return
    const answer = this.state.rooms[r.room]?.answers[r.messageId]
    if (!answer || answer.text === null) return
    this.spoken.add(r.id)
    const text = answerText(answer).slice(0, 4096)
    void (async () => {
      let slot: MediaSlot
      try {
        const item = await this.client!.media.speech({ text })
        slot = { state: 'ready', media: { kind: 'audio', url: await this.client!.media.url(item), mime: item.mime, size: item.size } }
      } catch (err) {
        slot = { state: 'failed', error: describe(err) }
        this.notice(`Reading the answer aloud failed: ${describe(err)}`)
      }
      this.store.dispatch({ type: 'response_patch', id: r.id, patch: { audio: slot } })
    })()
  }

  /** Stops the answer being written in the current room. */
  async stop (): Promise<void> {
    const room = this.state.currentRoom
    await this.busy('stop', 'Stopping the answer', async () => await this.rt.request('cancel', { thread: room }))
  }

  /** Shows an answer from the room's log in the display. */
  showAnswer (room: string, messageId: string): void {
    const question = Object.values(this.state.rooms[room]?.messages ?? {}).find((m) => `reply-${m.id}` === messageId)
    this.store.dispatch({ type: 'response', response: { id: uid(), kind: 'answer', title: question?.text ?? 'Answer', room, messageId } })
  }

  // ── tasks and the thread tree ───────────────────────────────────────────────────────────────────────────

  private async loadTree (): Promise<void> {
    try {
      this.store.dispatch({ type: 'tree', tree: await this.client!.threads.tree(MAIN), parent: null })
    } catch (err) {
      this.notice(`Loading the task tree failed: ${describe(err)}`)
    }
  }

  async createTask (task: string): Promise<boolean> {
    const ack = await this.busy('create_task', 'Starting the task', async () => await this.rt.request('create_task', { task }))
    if (!ack) return false
    this.store.dispatch({ type: 'response', response: { id: uid(), kind: 'thread', title: task, thread: ack.thread } })
    return true
  }

  /** Shows a thread (any node of the tree) in the display, with its messages. */
  openThread (id: string): void {
    const node = this.state.threads[id]
    this.store.dispatch({ type: 'response', response: { id: uid(), kind: 'thread', title: node?.task ?? id, thread: id } })
    void this.loadThreadMessages(id)
  }

  private refreshShownThread (id: string): void {
    if (this.state.response?.kind === 'thread' && this.state.response.thread === id) void this.loadThreadMessages(id)
  }

  private async loadThreadMessages (id: string): Promise<void> {
    this.store.dispatch({ type: 'thread_messages', thread: id, loading: true })
    try {
      const messages = await this.client!.threads.messages(id)
      this.store.dispatch({ type: 'thread_messages', thread: id, loading: false, messages })
    } catch (err) {
      this.store.dispatch({ type: 'thread_messages', thread: id, loading: false, error: describe(err) })
    }
  }

  async cancelThread (id: string): Promise<void> {
    await this.busy(`cancel:${id}`, 'Cancelling', async () => await this.rt.request('cancel', { thread: id }))
  }

  // ── memory ──────────────────────────────────────────────────────────────────────────────────────────────

  async searchMemory (query: MemorySearchQuery): Promise<void> {
    const reply = await this.busy('search', 'Searching memory', async () => await this.client!.memory.search(query))
    if (!reply) return
    const text = reply.results.length
      ? reply.results.map((h, i) => {
        const where = [h.metadata.thread, h.metadata.author].filter(Boolean).join(' · ')
        return `${i + 1}. ${h.text}\n   score ${h.score.toFixed(2)}${where ? ` · ${String(where)}` : ''}`
      }).join('\n\n')
      : 'Nothing in memory matches.'
    this.store.dispatch({ type: 'response', response: { id: uid(), kind: 'memory', title: `Memory: “${query.q}”`, text } })
  }

  /** Adds documents (one per paragraph) to a collection, creating it when it does not exist. */
  async addDocuments (collection: string, text: string): Promise<boolean> {
    const documents = text.split(/\n\s*\n/).map((t) => t.trim()).filter(Boolean).map((t) => ({ text: t }))
    const reply = await this.busy('documents', 'Adding to memory', async () => {
      try {
        await this.client!.collections.create({ name: collection })
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err
      }
      return await this.client!.collections.addDocuments(collection, documents)
    })
    if (!reply) return false
    this.store.dispatch({
      type: 'response',
      response: { id: uid(), kind: 'documents', title: `Added to “${collection}”`, text: `${reply.upserted} document${reply.upserted === 1 ? '' : 's'} added to the collection “${collection}”.\n\n${documents.map((d, i) => `${reply.ids[i] ?? ''}: ${d.text}`).join('\n')}` }
    })
    if (!this.state.collections.includes(collection)) this.store.dispatch({ type: 'collections', names: [...this.state.collections, collection] })
    return true
  }

  /** The user's collections, for the collection field's suggestions (asked when the field is used). */
  async loadCollections (): Promise<void> {
    if (this.collectionsAsked) return
    this.collectionsAsked = true
    try {
      this.store.dispatch({ type: 'collections', names: (await this.client!.collections.list()).map((c) => c.name) })
    } catch (err) {
      this.collectionsAsked = false
      this.notice(`Listing collections failed: ${describe(err)}`)
    }
  }

  /** The models the rooms may use, for the model field's suggestions (asked when the field is used). */
  async loadModels (): Promise<void> {
    if (this.state.models.length) return
    try {
      this.store.dispatch({ type: 'models', ids: (await this.client!.models.list()).map((m) => m.id) })
    } catch (err) {
      this.notice(`Listing models failed: ${describe(err)}`)
    }
  }

  dismiss (id: string): void {
    this.store.dispatch({ type: 'notice_dismissed', id })
  }
}

/** A kept state as the reloaded page can use it: media that was being made when the page went is lost. */
function restorable (state: AppState): AppState {
  const r = state.response
  if (!r) return state
  const lost = (slot: MediaSlot | undefined, keep: boolean): MediaSlot | undefined =>
    slot?.state === 'pending' && !keep ? { state: 'failed', error: 'the page was reloaded before it was ready' } : slot
  const answer = r.room && r.messageId ? state.rooms[r.room]?.answers[r.messageId] : undefined
  const answerDone = answer !== undefined && answer.text !== null
  const audio = lost(r.audio, !!r.speak && !answerDone)
  const image = lost(r.image, false)
  return { ...state, response: { ...r, ...(audio ? { audio } : {}), ...(image ? { image } : {}) } }
}
