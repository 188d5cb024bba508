import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { test, type Test } from 'tap'
import { HttpClient, InternalServerError, RateLimitError } from '../src/index.js'

/** A real HTTP server on loopback answering every request with `status` (and Retry-After: 0); counts the requests per method. */
async function answering (t: Test, status: number): Promise<{ url: string, hits: Record<string, number> }> {
  const hits: Record<string, number> = {}
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume()
    req.on('end', () => {
      hits[req.method!] = (hits[req.method!] ?? 0) + 1
      res.writeHead(status, { 'content-type': 'application/json', 'retry-after': '0', 'x-request-id': `r-${hits[req.method!]}` })
      res.end(JSON.stringify({ error: { code: `TEST_${status}`, message: `answered ${status}` } }))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits }
}

test('http client: a 503 is retried for a GET or DELETE, not for a POST unless the call says it is idempotent', async (t) => {
  const { url, hits } = await answering(t, 503)
  const http = new HttpClient({ baseURL: url, maxRetries: 2 })
  await t.rejects(http.get('/things'), InternalServerError)
  t.equal(hits.GET, 3, 'GET: the first attempt and two retries')
  await t.rejects(http.post('/things', { body: { name: 'once' } }), { name: 'InternalServerError', code: 'TEST_503', status: 503, requestId: 'r-1' })
  t.equal(hits.POST, 1, 'POST: sent once, as it may have been carried out')
  await t.rejects(http.post('/things/search', { body: { q: 'x' }, idempotent: true }), InternalServerError)
  t.equal(hits.POST, 4, 'a POST the call marks idempotent is retried')
  await t.rejects(http.delete('/things/1'), InternalServerError)
  t.equal(hits.DELETE, 3, 'DELETE: retried, like a GET')
})

test('http client: a 429 is retried for a POST as well (the server did nothing)', async (t) => {
  const { url, hits } = await answering(t, 429)
  const http = new HttpClient({ baseURL: url, maxRetries: 1 })
  await t.rejects(http.post('/things', { body: { name: 'later' } }), RateLimitError)
  t.equal(hits.POST, 2)
})
