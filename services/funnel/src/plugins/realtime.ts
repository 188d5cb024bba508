import { hostname } from 'node:os'
import { randomUUID } from 'node:crypto'
import fp from 'fastify-plugin'
import { RealtimeHub } from '../realtime/hub.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The realtime core behind `/ws`: sockets, rooms, live thread events, presence, stats. */
    realtime: RealtimeHub
  }
}

/** `fastify.realtime`, started once NATS is connected and stopped (sockets told to go elsewhere) on close. */
export default fp(async function realtime (fastify) {
  const c = fastify.config
  const hub = new RealtimeHub(fastify.nats, {
    instance: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
    maxBufferedBytes: c.WS_MAX_BUFFERED_BYTES,
    closeGraceMs: c.WS_CLOSE_GRACE_MS,
    ratePerS: c.WS_RATE_PER_S,
    rateBurst: c.WS_RATE_BURST,
    heartbeatMs: c.WS_HEARTBEAT_MS,
    maxRoomsPerSocket: c.WS_MAX_ROOMS_PER_SOCKET,
    requestTimeoutMs: c.WS_REQUEST_TIMEOUT_MS,
    presenceIntervalMs: c.WS_PRESENCE_INTERVAL_MS,
    statsWaitMs: c.WS_STATS_WAIT_MS
  }, fastify.log)
  await hub.start()
  fastify.decorate('realtime', hub)
  fastify.addHook('preClose', async () => { await hub.stop() })
}, { name: 'realtime', dependencies: ['@skein/bus'] })
