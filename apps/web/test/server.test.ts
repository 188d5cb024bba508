import { join } from 'node:path'
import { test } from 'tap'
import { ManagedProcess, freePort, httpAnswers, repoRoot, waitFor } from '@skein/stack'

// The production server of the web app (what npm start runs on :3000), over a real socket.
test('serves the built app (gzipped when accepted), tells it where the funnel is, falls back to index.html, and stays inside dist/', async (t) => {
  const port = await freePort()
  const proc = new ManagedProcess({
    name: 'web',
    command: process.execPath,
    args: [join(repoRoot, 'apps', 'web', 'server.mjs')],
    env: { PORT: String(port), FUNNEL_URL: 'http://127.0.0.1:5999' }
  })
  t.teardown(() => proc.stop())
  const base = `http://127.0.0.1:${port}`
  await waitFor(() => httpAnswers(base), { what: 'web server', timeoutMs: 10_000, process: proc })

  const index = await fetch(`${base}/`)
  t.equal(index.status, 200)
  const html = await index.text()
  t.match(html, /window\.SKEIN_CONFIG=\{"funnelUrl":"http:\/\/127\.0\.0\.1:5999"\}/)
  const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1]
  t.ok(script, 'the page loads a built bundle')
  const js = await fetch(`${base}${script}`)
  t.equal(js.status, 200)
  t.match(js.headers.get('content-type'), /text\/javascript/)
  t.match(js.headers.get('cache-control'), /immutable/)
  t.equal(js.headers.get('content-encoding'), 'gzip', 'gzipped for a browser that accepts it')
  const body = await js.text()
  t.match(body, /funnelUrl|SKEIN_CONFIG/, 'and it is the app')
  const plain = await fetch(`${base}${script}`, { headers: { 'accept-encoding': 'identity' } })
  t.equal(plain.headers.get('content-encoding'), null, 'plain for one that does not')
  t.equal(await plain.text(), body, 'the same bytes either way')

  const deep = await fetch(`${base}/rooms/main`)
  t.equal(deep.status, 200)
  t.match(await deep.text(), /<div id="root">/, 'client-side routes get the app')

  const traversal = await fetch(`${base}/..%2f..%2fpackage.json`)
  t.notMatch(await traversal.text(), /"name": "@skein\/web"/, 'no file outside dist/ is served')
})
