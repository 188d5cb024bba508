export { ErrorBody } from './errors.js'
export {
  CheckStatus,
  DependencyHealth,
  HealthStatus,
  ServiceHealth,
  StackHealth,
  StackParts,
  type StackPart
} from './health.js'
export {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  ChatContentPart,
  ChatMessage,
  EmbeddingsRequest,
  EmbeddingsResponse,
  Model,
  ModelList,
  Usage
} from './openai.js'
export { MediaItem, ModelBackend, ModelTimeouts, ModelUsage, ModelsConfig, OpenAIErrorBody } from './models-config.js'
export {
  CreateTaskBody,
  MessageRole,
  PostMessageBody,
  TERMINAL_STATUSES,
  ThreadEvent,
  ThreadEventPayload,
  ThreadEventType,
  ThreadKind,
  ThreadMessage,
  ThreadMessagesPage,
  ThreadMessagesQuery,
  ThreadRecord,
  ThreadStatus,
  ThreadTree,
  ThreadUsage,
  ThreadsRpcOp,
  ThreadsRpcReply,
  ThreadsRpcRequest,
  WorkItem
} from './threads.js'
export {
  Ack,
  CloseCodes,
  ClientAcks,
  ClientEvents,
  ClientFrame,
  ErrorEvent,
  MAIN_ROOM,
  RealtimeStats,
  RoomId,
  SEQUENCED_EVENTS,
  ServerEvents,
  ThreadSummary,
  type ClientAckData,
  type ClientEventData,
  type ClientEventName,
  type ServerEventData,
  type ServerEventName,
  type ServerFrame
} from './realtime.js'
export {
  CollectionInfo,
  CollectionList,
  CollectionName,
  CreateCollectionBody,
  DocumentId,
  DocumentInput,
  DocumentRecord,
  MemoryMetadata,
  MemoryMetadataValue,
  MemoryScope,
  MemorySearchQuery,
  MemorySearchReply,
  MemorySearchRequest,
  QueryBody,
  QueryReply,
  SearchHit,
  UpsertDocumentsBody,
  UpsertDocumentsReply
} from './memory.js'
