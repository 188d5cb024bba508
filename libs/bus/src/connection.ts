import { connect, headers, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node'
import { REQUEST_ID_HEADER } from '@skein/kit'

export interface BusOptions {
  /** NATS server URL(s), comma separated. */
  servers: string
  /** The connection's name, seen in NATS monitoring: "<service>@<host>:<pid>". */
  name: string
  /** How long to keep trying the first connection before failing with a clear error. */
  connectTimeoutMs: number
}

/** The first connection could not be made: says where it tried and what to do next. */
export class BusUnavailableError extends Error {
  constructor (servers: string, cause: unknown) {
    super(`NATS is not reachable at ${servers}: start nats-server with JetStream (nats-server -js) or set NATS_URL to a running one`, { cause })
    this.name = 'BusUnavailableError'
  }
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Opens the process's one NATS connection. The first connection is retried until `connectTimeoutMs`;
 * once connected, the client reconnects without limit (a NATS restart is a pause, not an outage).
 */
export async function connectBus (opts: BusOptions): Promise<NatsConnection> {
  const servers = opts.servers.split(',').map((s) => s.trim()).filter(Boolean)
  const deadline = Date.now() + opts.connectTimeoutMs
  let lastError: unknown
  while (Date.now() < deadline) {
    try {
      return await connect({
        servers,
        name: opts.name,
        timeout: Math.max(100, Math.min(2_000, deadline - Date.now())),
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
        reconnectJitter: 100,
        pingInterval: 10_000,
        maxPingOut: 3,
        // Without this every request, JetStream publishes included, builds two Errors up front (RequestError,
        // TimeoutError) to carry the caller's stack should it fail: in a CPU profile of the funnel under load
        // that was its costliest work per message after writing to sockets (docs/benchmarks.md, realtime).
        // Failures keep their message and cause; our own errors say where they came from.
        noAsyncTraces: true
      })
    } catch (err) {
      lastError = err
      await delay(Math.min(250, Math.max(0, deadline - Date.now())))
    }
  }
  throw new BusUnavailableError(opts.servers, lastError)
}

/** NATS headers carrying the request id, so one user action can be followed across services. */
export function busHeaders (requestId?: string): MsgHdrs {
  const h = headers()
  if (requestId) h.set(REQUEST_ID_HEADER, requestId)
  return h
}
