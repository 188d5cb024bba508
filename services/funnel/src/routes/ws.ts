import { randomUUID } from 'node:crypto'
import type { FastifyPluginAsync } from 'fastify'

/**
 * `/ws`: the funnel's own WebSocket route, kept apart from the proxied paths. This foundation answers the
 * connect `status` and refuses what it does not know yet with an `error` event; rooms, presence, typing and
 * streamed tokens arrive with the realtime work.
 */
const ws: FastifyPluginAsync = async (fastify) => {
  fastify.get('/ws', { websocket: true }, (socket, request) => {
    const sessionId = randomUUID()
    // The listener is attached before any await, so no early frame is lost.
    socket.on('message', (raw, isBinary) => {
      let frame: unknown
      try {
        frame = isBinary ? undefined : JSON.parse(raw.toString('utf8'))
      } catch {
        frame = undefined
      }
      const id = typeof frame === 'object' && frame !== null && typeof (frame as { id?: unknown }).id === 'string' ? (frame as { id: string }).id : undefined
      const event = typeof frame === 'object' && frame !== null ? (frame as { event?: unknown }).event : undefined
      const error = typeof event !== 'string'
        ? { code: 'FUNNEL_BAD_FRAME', message: 'frames are JSON objects: { "event": "<name>", "data": { … }, "id"?: "<client id>" }' }
        : { code: 'FUNNEL_UNKNOWN_EVENT', message: `unknown event "${event.slice(0, 64)}"` }
      socket.send(JSON.stringify({ event: 'error', ...(id ? { id } : {}), data: error }))
    })
    socket.send(JSON.stringify({ event: 'status', data: { sessionId, requestId: request.id } }))
  })
}
export default ws
