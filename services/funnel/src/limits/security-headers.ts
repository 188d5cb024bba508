import type { IncomingMessage, ServerResponse } from 'node:http'
import helmet, { type HelmetOptions } from 'helmet'

/**
 * The headers helmet sets for these options, worked out once: they are the same for every answer, and
 * building helmet's middleware for each request (as @fastify/helmet does) cost a measured ~0.1 ms of CPU per
 * request at the edge.
 */
export function securityHeaders (options: Readonly<HelmetOptions>): ReadonlyArray<readonly [string, string]> {
  const headers: Array<[string, string]> = []
  const res = {
    setHeader (name: string, value: string | number | readonly string[]): void {
      headers.push([name.toLowerCase(), Array.isArray(value) ? value.join(', ') : String(value)])
    },
    removeHeader (): void {}
  }
  helmet(options)({} as IncomingMessage, res as unknown as ServerResponse, (err?: unknown) => {
    if (err) throw err
  })
  return headers
}
