import type { ServerResponse } from 'node:http'
import type { FastifyReply } from 'fastify'

/**
 * Takes the response over for Server-Sent Events: headers that keep proxies from buffering, the request id,
 * and the raw response to write `data:` frames to. Every SSE route of every service starts here.
 */
export function startEventStream (reply: FastifyReply): ServerResponse {
  reply.hijack()
  const raw = reply.raw
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-request-id': reply.request.id
  })
  return raw
}
