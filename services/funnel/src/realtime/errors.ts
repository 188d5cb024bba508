/** A refusal sent to the client as an `error` event; the connection stays open. */
export class WsError extends Error {
  constructor (readonly code: string, message: string, readonly extra: Record<string, unknown> = {}) {
    super(message)
    this.name = 'WsError'
  }
}
