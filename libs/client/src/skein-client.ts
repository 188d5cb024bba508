import type {
  CollectionInfo,
  CollectionList,
  CreateCollectionBody,
  CreateTaskBody,
  DocumentInput,
  DocumentRecord,
  MediaItem,
  MemorySearchQuery,
  MemorySearchReply,
  ModelList,
  QueryBody,
  QueryReply,
  ThreadMessage,
  ThreadMessagesPage,
  ThreadRecord,
  ThreadTree,
  UpsertDocumentsReply
} from '@skein/schemas'
import { HttpClient, type TokenSource } from './http-client.js'
import { RealtimeClient, type ReconnectOptions, type WebSocketConstructor } from './realtime-client.js'

export interface SkeinClientOptions {
  /** The funnel: the only address a client needs (HTTP and `/ws`). */
  baseURL: string
  /** A Skein token, or a function giving one (asked again with `refresh: true` when the socket says it expired). */
  token?: TokenSource
  fetch?: typeof fetch
  /** The WebSocket class (default: the global one; in Node 20 pass the `ws` package's). */
  WebSocket?: WebSocketConstructor
  /** Milliseconds allowed to one HTTP attempt (default 60 000). */
  timeout?: number
  /**
   * HTTP retries (default 2): on 429 for every call; on connection errors, timeouts, 408 and 5xx only for the
   * calls that may safely be made twice (reads, deletes, searches, cancel, sign-in, document upserts),
   * never for one that would do its work twice (a task, a collection, an image or speech made again).
   */
  maxRetries?: number
  /** Milliseconds a WebSocket request waits for its ack (default 20 000). */
  realtimeTimeout?: number
  reconnect?: ReconnectOptions
  /** Rooms to rejoin, with the last seq seen in each (`client.realtime.positions()` kept over a reload). */
  resume?: Record<string, number>
}

export interface TokenAnswer { token: string, user: string, expiresAt: string }

/**
 * The Skein client: the funnel's HTTP API as typed resources, and `realtime`, one socket that reconnects and
 * resumes losslessly (call `realtime.connect()` once).
 */
export class SkeinClient {
  readonly http: HttpClient
  readonly realtime: RealtimeClient

  constructor (opts: SkeinClientOptions) {
    this.http = new HttpClient({
      baseURL: opts.baseURL,
      ...(opts.token !== undefined ? { token: opts.token } : {}),
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
      ...(opts.timeout !== undefined ? { timeout: opts.timeout } : {}),
      ...(opts.maxRetries !== undefined ? { maxRetries: opts.maxRetries } : {})
    })
    this.realtime = new RealtimeClient({
      baseURL: opts.baseURL,
      ...(opts.token !== undefined ? { token: opts.token } : {}),
      ...(opts.WebSocket ? { WebSocket: opts.WebSocket } : {}),
      ...(opts.realtimeTimeout !== undefined ? { timeout: opts.realtimeTimeout } : {}),
      ...(opts.reconnect ? { reconnect: opts.reconnect } : {}),
      ...(opts.resume ? { resume: opts.resume } : {})
    })
  }

  readonly auth = {
    /** The dev login (`AUTH_DEV_LOGIN`): a token for a user name, no password. */
    token: async (user: string): Promise<TokenAnswer> => await this.http.post<TokenAnswer>('/auth/token', { body: { user }, auth: false, idempotent: true })
  }

  readonly threads = {
    main: async (): Promise<ThreadRecord> => await this.http.get<ThreadRecord>('/threads/main'),
    get: async (id: string): Promise<ThreadRecord> => await this.http.get<ThreadRecord>(`/threads/${encodeURIComponent(id)}`),
    tree: async (id: string): Promise<ThreadTree> => await this.http.get<ThreadTree>(`/threads/${encodeURIComponent(id)}/tree`),
    /** Every message after `after` (all of them without it). */
    messages: async (id: string, opts: { after?: number } = {}): Promise<ThreadMessage[]> =>
      (await this.http.get<ThreadMessagesPage>(`/threads/${encodeURIComponent(id)}/messages`, { query: { after: opts.after } })).messages,
    /** The newest `limit` messages (before `before`, when given) and whether older ones remain: a long thread a page at a time. */
    messagePage: async (id: string, opts: { limit: number, before?: number, after?: number }): Promise<ThreadMessagesPage> =>
      await this.http.get<ThreadMessagesPage>(`/threads/${encodeURIComponent(id)}/messages`, { query: { limit: opts.limit, before: opts.before, after: opts.after } }),
    createTask: async (body: CreateTaskBody): Promise<ThreadRecord> => await this.http.post<ThreadRecord>('/tasks', { body }),
    /** Cancels a task and its steps (again: nothing more happens, so it is retried like a read). */
    cancel: async (id: string): Promise<unknown> => await this.http.post(`/threads/${encodeURIComponent(id)}/cancel`, { idempotent: true })
  }

  readonly media = {
    speech: async (body: { text: string, voice?: string }): Promise<MediaItem> => await this.http.post<MediaItem>('/speech', { body }),
    image: async (body: { prompt: string, size?: '256x256' | '512x512' | '1024x1024' | '1024x1792' | '1792x1024' }): Promise<MediaItem> =>
      await this.http.post<MediaItem>('/images', { body }),
    /** Where a browser can load the item (`<audio src>`, `<img src>`): its URL with the token in the query. */
    url: async (item: Pick<MediaItem, 'url'>): Promise<string> => {
      const token = await this.http.token()
      return this.http.url(item.url, { token })
    }
  }

  readonly memory = {
    search: async (query: MemorySearchQuery): Promise<MemorySearchReply> =>
      await this.http.get<MemorySearchReply>('/api/memory/search', { query: { q: query.q, scope: query.scope, id: query.id, k: query.k } })
  }

  /**
   * The user's collections (and the ones others share) in the vector store. Someone else's private collection is
   * a NotFoundError, like a missing one; writing to someone else's shared one is a PermissionDeniedError.
   */
  readonly collections = {
    list: async (): Promise<CollectionInfo[]> => (await this.http.get<CollectionList>('/api/collections')).collections,
    /** Creates a collection (a ConflictError when the name is taken; not retried, as it may have been made). */
    create: async (body: CreateCollectionBody): Promise<CollectionInfo> => await this.http.post<CollectionInfo>('/api/collections', { body }),
    /** A collection, with its documents `count`. */
    get: async (name: string): Promise<CollectionInfo> => await this.http.get<CollectionInfo>(collectionPath(name)),
    /** Deletes a collection and its documents (its owner only). */
    delete: async (name: string): Promise<void> => { await this.http.delete(collectionPath(name)) },
    /**
     * Upserts documents: the same id replaces, never duplicates; a document without an id gets one derived from
     * its text and metadata. Retried like a read: a retry writes the same records again, once.
     */
    addDocuments: async (name: string, documents: DocumentInput[]): Promise<UpsertDocumentsReply> =>
      await this.http.post<UpsertDocumentsReply>(`${collectionPath(name)}/documents`, { body: { documents }, idempotent: true }),
    /** The documents closest in meaning to `text`, best first (`k` of them, default 10), optionally filtered by metadata (`where`). */
    query: async (name: string, query: QueryBody): Promise<QueryReply> =>
      await this.http.post<QueryReply>(`${collectionPath(name)}/query`, { body: query, idempotent: true }),
    getDocument: async (name: string, id: string): Promise<DocumentRecord> =>
      await this.http.get<DocumentRecord>(`${collectionPath(name)}/documents/${encodeURIComponent(id)}`),
    deleteDocument: async (name: string, id: string): Promise<void> => {
      await this.http.delete(`${collectionPath(name)}/documents/${encodeURIComponent(id)}`)
    }
  }

  readonly models = {
    list: async (): Promise<ModelList['data']> => (await this.http.get<ModelList>('/v1/models')).data
  }
}

function collectionPath (name: string): string {
  return `/api/collections/${encodeURIComponent(name)}`
}
