import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'tap'
import { NatsServer, externalNatsNote, freePort, natsServerBinary, natsServerVersion, runningNatsVersion } from '../src/index.js'

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

test('npm start says what a NATS it found running means for durability: its version, read from its INFO line', async (t) => {
  const nats = await NatsServer.start({ dataDir: mkdtempSync(join(tmpdir(), 'skein-nats-info-')) })
  t.teardown(() => nats.stop())
  t.same(await runningNatsVersion(nats.url), natsServerVersion(), 'the version the running server announces')
  t.equal(await runningNatsVersion(`nats://127.0.0.1:${await freePort()}`), undefined, 'nothing listening: no version')

  t.match(externalNatsNote('nats://127.0.0.1:4222', [2, 9, 25]), /^nats-server 2\.9\.25 at nats:\/\/127\.0\.0\.1:4222 was already running and cannot sync every write/, 'a 2.9 server cannot sync every write')
  t.match(externalNatsNote('nats://127.0.0.1:4222', [2, 9, 25]), /Stop it to let Skein start its own/, 'and the note says what to do')
  t.match(externalNatsNote('nats://nats:4222', [2, 10, 27]), /its own settings decide durability; run it with sync_interval: always/, 'a 2.10 server may or may not')
  t.match(externalNatsNote('nats://nats:4222', undefined), /^the NATS server at nats:\/\/nats:4222 was already running/, 'an unknown version says so')
})
