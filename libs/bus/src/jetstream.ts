import { JetStreamApiError, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream'

const STREAM_NAME_IN_USE = 10058

/** Declares a stream idempotently at boot: created when absent, updated when its config changed. */
export async function ensureStream (jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<void> {
  try {
    await jsm.streams.add(config)
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === STREAM_NAME_IN_USE) {
      await jsm.streams.update(config.name, config)
      return
    }
    throw err
  }
}
