export { BusUnavailableError, busHeaders, connectBus, type BusOptions } from './connection.js'
export { busPlugin, type BusPluginOptions } from './bus-plugin.js'
export { PublishFailedError, duplicateInProcess, ensureStream, isTransient, lastSeqOn, mayHaveLanded, neverReached, onStalled, patiently, publishOnce, readRange, ReadIncompleteError, type ReadRangeOptions } from './jetstream.js'
export { SUBJECT_TOKEN, THREAD_EVENT_TYPES, THREADS_BUCKET, THREADS_STREAM, WORK_CONSUMER, WORK_STREAM, assertToken, subjects } from './subjects.js'
