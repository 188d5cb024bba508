import { hostname } from 'node:os'
import fp from 'fastify-plugin'
import type { NatsConnection } from '@nats-io/transport-node'
import { connectBus } from './connection.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The process's one NATS connection. */
    nats: NatsConnection
  }
}

const DRAIN_TIMEOUT_MS = 5_000

export interface BusPluginOptions {
  /** Used in the connection name: "<service>@<host>:<pid>". */
  service: string
}

/**
 * `fastify.nats`: connects at boot (a clear error if NATS never answers), reports `nats` in `/health`, logs
 * disconnects and reconnects, and drains on close so in-flight messages are delivered before exit.
 */
export const busPlugin = fp<BusPluginOptions>(async function bus (fastify, opts) {
  const { NATS_URL, NATS_CONNECT_TIMEOUT_MS, HEALTH_TIMEOUT_MS } = fastify.config
  const nc = await connectBus({
    servers: NATS_URL,
    name: `${opts.service}@${hostname()}:${process.pid}`,
    connectTimeoutMs: NATS_CONNECT_TIMEOUT_MS
  })
  fastify.log.info({ server: nc.getServer() }, 'connected to NATS')
  fastify.decorate('nats', nc)

  let connected = true
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        connected = false
        fastify.log.warn({ server: s.server }, 'NATS disconnected; reconnecting')
      } else if (s.type === 'reconnect') {
        connected = true
        fastify.log.info({ server: s.server }, 'NATS reconnected')
      }
      else if (s.type === 'error') fastify.log.error({ err: s.error }, 'NATS error')
    }
  })()

  fastify.health.add('nats', async () => {
    if (nc.isClosed()) return { status: 'down', message: 'connection closed' }
    const rtt = await Promise.race([
      nc.rtt(),
      new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error(`no answer from ${NATS_URL} within ${HEALTH_TIMEOUT_MS} ms`)), HEALTH_TIMEOUT_MS).unref())
    ])
    return { status: 'up', latencyMs: Math.round(rtt), message: nc.getServer() }
  })

  // Drain delivers what is in flight; while disconnected there is nothing to drain, and waiting for a
  // reconnect would hold shutdown hostage, so the connection is closed instead. Drain is bounded too.
  fastify.addHook('onClose', async () => {
    if (nc.isClosed()) return
    if (connected) {
      let timer: NodeJS.Timeout | undefined
      const bound = new Promise<void>((resolve) => { timer = setTimeout(resolve, DRAIN_TIMEOUT_MS) })
      await Promise.race([nc.drain().catch((err: unknown) => fastify.log.warn({ err }, 'NATS drain failed')), bound])
      clearTimeout(timer)
    }
    if (!nc.isClosed()) await nc.close()
  })
}, { name: '@skein/bus', fastify: '5.x', dependencies: ['@skein/kit/health'] })
