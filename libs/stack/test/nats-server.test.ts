import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'tap'
import { NatsServer, freePort, natsServerBinary } from '../src/index.js'

// issue 8: a single-node NATS started by Skein syncs every JetStream write to disk before acknowledging it.
// Debian bookworm's 2.9 cannot; npm test and npm start fetch Debian trixie's 2.10 into .tools/ (scripts/skein.mjs).
test('a NATS started by Skein syncs every write before acknowledging it', async (t) => {
  const monitorPort = await freePort()
  const nats = await NatsServer.start({ dataDir: mkdtempSync(join(tmpdir(), 'skein-nats-sync-')), monitorPort })
  t.teardown(() => nats.stop())
  t.ok(nats.syncsEveryWrite, `${natsServerBinary()} knows sync_interval (2.10 or later)`)
  const varz = await (await fetch(`http://127.0.0.1:${monitorPort}/varz`)).json() as { version: string, jetstream?: { config?: { sync_always?: boolean } } }
  t.equal(varz.jetstream?.config?.sync_always, true, `nats-server ${varz.version} runs JetStream with sync_always`)
})
