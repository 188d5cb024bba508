export { BusUnavailableError, busHeaders, connectBus, type BusOptions } from './connection.js'
export { busPlugin, type BusPluginOptions } from './bus-plugin.js'
