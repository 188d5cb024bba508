export { BusUnavailableError, busHeaders, connectBus, type BusOptions } from './connection.js'
export { busPlugin, type BusPluginOptions } from './bus-plugin.js'
export { ensureStream } from './jetstream.js'
export { SUBJECT_TOKEN, THREADS_BUCKET, THREADS_STREAM, WORK_CONSUMER, WORK_STREAM, assertToken, subjects } from './subjects.js'
