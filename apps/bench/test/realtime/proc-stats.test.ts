import { createServer } from 'node:net'
import { test } from 'tap'
import { cpuSeconds, listeningInodes, listeningPid, parseCpuTicks, parseVmRssKib, rssKib } from '../../src/realtime/proc-stats.js'

test('VmRSS is read in KiB from /proc/<pid>/status', async (t) => {
  t.equal(parseVmRssKib('Name:\tnode\nVmPeak:\t 1200 kB\nVmRSS:\t   84512 kB\nRssAnon:\t 1 kB\n'), 84512)
  t.throws(() => parseVmRssKib('Name:\tzombie\n'), /VmRSS/)
  t.ok(rssKib(process.pid) > 10_000, 'this Node process holds more than 10 MiB')
})

test('CPU ticks are utime + stime, even when the process name holds spaces and parentheses', async (t) => {
  const stat = '4242 (node (worker) x) S 1 4242 4242 0 -1 4194560 9 0 0 0 1234 567 0 0 20 0 11 0 100 0 0'
  t.equal(parseCpuTicks(stat), 1801)
  const before = cpuSeconds(process.pid)
  const until = performance.now() + 150
  while (performance.now() < until) Math.sqrt(Math.random())
  t.ok(cpuSeconds(process.pid) - before >= 0.05, 'a busy loop shows as CPU time')
})

test('the process listening on a port is found through /proc/net/tcp', async (t) => {
  const table = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1388 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 71234 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1388 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 71240 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:1389 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 71300 1 0000000000000000 100 0 0 10 0`
  t.same(listeningInodes(table, 5000), ['71234'], 'only the LISTEN row of port 5000')
  const server = createServer().listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  t.teardown(() => { server.close() })
  const port = (server.address() as { port: number }).port
  t.equal(listeningPid(port), process.pid)
})
