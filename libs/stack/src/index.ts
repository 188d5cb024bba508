export { ChromaServer, chromaCli, type ChromaServerOptions } from './chroma-server.js'
export { ManagedProcess, type ManagedProcessOptions } from './managed-process.js'
export { NatsCluster, NatsServer, externalNatsNote, natsServerBinary, natsServerVersion, natsSyncsEveryWrite, runningNatsVersion, type NatsServerOptions } from './nats-server.js'
export {
  DEFAULT_PORTS,
  NODE_FLAGS,
  freePorts,
  repoRoot,
  stackSecret,
  startStack,
  type RunningStack,
  type StackOptions,
  type StackPart,
  type StackPorts
} from './stack.js'
export { freePort, httpAnswers, isListening, waitFor, type WaitOptions } from './wait.js'
export { startServiceProcess, startSimulator, type ServiceProcess, type ServiceProcessOptions } from './service-process.js'
export { CuttableProxy } from './cuttable-proxy.js'
export { WsClient, type Frame } from './ws-client.js'
