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
  ThreadRecord,
  ThreadStatus,
  ThreadTree,
  ThreadUsage,
  WorkItem
} from './threads.js'
