import type { ClientEventData, ClientEventName, ServerFrame } from '@skein/schemas'

/** A client frame as JSON text: `{ event, data, id? }`. */
export function encodeFrame<E extends ClientEventName> (event: E, data: ClientEventData<E>, id?: string): string {
  return JSON.stringify(id === undefined ? { event, data } : { event, data, id })
}

/** A server frame from JSON text, or null when the text is not one (never throws). */
export function decodeFrame (text: string): ServerFrame | null {
  try {
    const value = JSON.parse(text) as unknown
    if (typeof value !== 'object' || value === null || typeof (value as { event?: unknown }).event !== 'string') return null
    const frame = value as { event: string, data?: unknown, id?: unknown }
    if (typeof frame.data !== 'object' || frame.data === null) return null
    return frame as ServerFrame
  } catch {
    return null
  }
}
