import { test } from 'tap'
import { auth, backends, build, serviceEnv, simulator } from '../helper.js'

/** A word of its own for document i, so a query can name exactly one document. */
const codeWord = (i: number): string => `zq${i.toString(36)}x${((i * 7919) % 1000).toString(36)}`
const ANIMALS = ['puffin', 'gannet', 'otter', 'seal', 'heron', 'curlew', 'plover', 'tern']
const note = (i: number): string => `Field note ${i}: the ${ANIMALS[i % ANIMALS.length]} seen near marker ${codeWord(i)} at dawn`

test('collections: create, upsert, query, get, delete, scoped per user', async (t) => {
  const { nats, chroma } = await backends(t)
  const sim = await simulator(t)
  // Small batches, so a 1,000-document upsert is split in several embedding calls and several Chroma writes.
  const env = { ...serviceEnv(nats.url, chroma.url, sim), UPSERT_BATCH: '300', EMBEDDING_BATCH: '100' }
  const app = await build(t, env)
  const alice = auth('alice')
  const post = async (url: string, body: unknown, user = 'alice'): Promise<{ statusCode: number, json: () => any }> =>
    await app.inject({ method: 'POST', url, headers: { ...auth(user), 'content-type': 'application/json' }, payload: JSON.stringify(body) })

  await t.test('a collection is created, listed and described, with the embedding it is built with', async (t) => {
    const created = await post('/api/collections', { name: 'field-notes', metadata: { topic: 'birds', year: 2024 } })
    t.equal(created.statusCode, 201)
    t.match(created.json(), { name: 'field-notes', owner: 'alice', shared: false, metadata: { topic: 'birds', year: 2024 }, embedding: { model: 'skein-sim-embed', dimensions: 256 }, count: 0 })
    const again = await post('/api/collections', { name: 'field-notes' })
    t.equal(again.statusCode, 409)
    t.equal(again.json().error.code, 'MEMORY_COLLECTION_EXISTS')
    const list = await app.inject({ url: '/api/collections', headers: alice })
    t.same(list.json().collections.map((c: { name: string }) => c.name), ['field-notes'])
    const one = await app.inject({ url: '/api/collections/field-notes', headers: alice })
    t.equal(one.statusCode, 200)
    t.equal(one.json().count, 0)
    t.equal((await app.inject({ url: '/api/collections/nothing-here', headers: alice })).json().error.code, 'MEMORY_COLLECTION_NOT_FOUND')
  })

  await t.test('with Chroma down: 503 with a clear error, and health says so', async (t) => {
    await chroma.kill()
    const res = await post('/api/collections/field-notes/query', { text: 'puffin' })
    t.equal(res.statusCode, 503)
    t.equal(res.json().error.code, 'MEMORY_UNAVAILABLE')
    t.match(res.json().error.message, /Chroma is unavailable/)
    const list = await app.inject({ url: '/api/collections', headers: alice })
    t.equal(list.statusCode, 503)
    const health = await app.inject({ url: '/api/health' })
    t.equal(health.statusCode, 503)
    t.equal(health.json().dependencies.chromadb.status, 'down')
    await chroma.restart()
    t.equal((await post('/api/collections/field-notes/query', { text: 'puffin' })).statusCode, 200, 'and answers again once it is back')
  })

  await t.test('1,000 documents in one call: the right one first; the same upsert twice changes no count', async (t) => {
    const documents = Array.from({ length: 1000 }, (_v, i) => ({ id: `note-${i}`, text: note(i), metadata: { animal: ANIMALS[i % ANIMALS.length]!, n: i } }))
    const first = await post('/api/collections/field-notes/documents', { documents })
    t.equal(first.statusCode, 200)
    t.equal(first.json().upserted, 1000)
    t.same(first.json().ids.slice(0, 3), ['note-0', 'note-1', 'note-2'], 'the ids, in the order given')
    t.equal((await app.inject({ url: '/api/collections/field-notes', headers: alice })).json().count, 1000)

    const q = await post('/api/collections/field-notes/query', { text: `the gannet seen near marker ${codeWord(737)}`, k: 5 })
    t.equal(q.statusCode, 200)
    const results = q.json().results as Array<{ id: string, text: string, score: number, metadata: Record<string, unknown> }>
    t.equal(results.length, 5)
    t.equal(results[0]!.id, 'note-737', 'the document that shares the words comes first')
    t.equal(results[0]!.text, note(737))
    t.same(results[0]!.metadata, { animal: ANIMALS[737 % ANIMALS.length], n: 737 })
    t.ok(results.every((r, i) => i === 0 || r.score <= results[i - 1]!.score), 'best first')

    const second = await post('/api/collections/field-notes/documents', { documents })
    t.equal(second.statusCode, 200)
    t.equal((await app.inject({ url: '/api/collections/field-notes', headers: alice })).json().count, 1000, 'the same ids replace, never duplicate')
  })

  await t.test('1,000 documents of 1,200 characters (over 1 MiB) in one call: all stored; above MEMORY_UPSERT_BODY_LIMIT a 413 that names it', async (t) => {
    t.equal((await post('/api/collections', { name: 'long-notes' })).statusCode, 201)
    const long = (i: number): string => `${note(i)}. ${'The colony was counted again from the boat, nest by nest, along the ledges. '.repeat(20)}`.slice(0, 1200)
    const documents = Array.from({ length: 1000 }, (_v, i) => ({ id: `long-${i}`, text: long(i) }))
    const payload = JSON.stringify({ documents })
    t.ok(payload.length > 1_048_576, 'larger than the service\'s BODY_LIMIT')
    const res = await app.inject({ method: 'POST', url: '/api/collections/long-notes/documents', headers: { ...alice, 'content-type': 'application/json' }, payload })
    t.equal(res.statusCode, 200)
    t.equal(res.json().upserted, 1000)
    t.equal((await app.inject({ url: '/api/collections/long-notes', headers: alice })).json().count, 1000)

    const small = await build(t, { ...env, MEMORY_UPSERT_BODY_LIMIT: '65536' })
    const tooLarge = await small.inject({ method: 'POST', url: '/api/collections/long-notes/documents', headers: { ...alice, 'content-type': 'application/json' }, payload })
    t.equal(tooLarge.statusCode, 413)
    t.equal(tooLarge.json().error.code, 'MEMORY_PAYLOAD_TOO_LARGE')
    t.match(tooLarge.json().error.message, /larger than MEMORY_UPSERT_BODY_LIMIT \(65536 bytes\): send the documents in several calls/)
    t.equal((await app.inject({ method: 'DELETE', url: '/api/collections/long-notes', headers: alice })).statusCode, 204)
  })

  await t.test('ids are generated when absent; a repeated id in one call is written once, the last one winning', async (t) => {
    const res = await post('/api/collections/field-notes/documents', { documents: [{ text: 'A kittiwake colony on the sea stacks' }, { id: 'dup', text: 'first version' }, { id: 'dup', text: 'second version', metadata: { v: 2 } }] })
    t.equal(res.statusCode, 200)
    const ids = res.json().ids as string[]
    t.match(ids[0], /^d-[0-9a-f]{32}$/, 'an id from the content where none was given')
    t.same(ids.slice(1), ['dup', 'dup'])
    t.equal(res.json().upserted, 2)
    const dup = await app.inject({ url: '/api/collections/field-notes/documents/dup', headers: alice })
    t.same(dup.json(), { id: 'dup', text: 'second version', metadata: { v: 2 } })
    const generated = await app.inject({ url: `/api/collections/field-notes/documents/${ids[0]}`, headers: alice })
    t.equal(generated.json().text, 'A kittiwake colony on the sea stacks')
    t.equal((await app.inject({ url: '/api/collections/field-notes', headers: alice })).json().count, 1002)
  })

  await t.test('documents without ids, sent twice (a retry, a repeated paste), are stored once, under the same ids', async (t) => {
    t.equal((await post('/api/collections', { name: 'pastes' })).statusCode, 201)
    const documents = [{ text: 'Razorbills winter far out at sea', metadata: { kind: 'note', year: 2024 } }, { text: 'Fulmars glide on stiff wings' }]
    const first = await post('/api/collections/pastes/documents', { documents })
    t.equal(first.statusCode, 200)
    const ids = first.json().ids as string[]
    t.equal(new Set(ids).size, 2, 'two documents, two ids')
    const again = await post('/api/collections/pastes/documents', { documents: [{ text: documents[0]!.text, metadata: { year: 2024, kind: 'note' } }, documents[1]] })
    t.same(again.json().ids, ids, 'the same ids the second time (metadata key order does not matter)')
    t.equal((await app.inject({ url: '/api/collections/pastes', headers: alice })).json().count, 2, 'stored once')
    const changed = await post('/api/collections/pastes/documents', { documents: [{ text: documents[0]!.text, metadata: { kind: 'note', year: 2025 } }] })
    t.not(changed.json().ids[0], ids[0], 'other metadata: another document')
    t.equal((await app.inject({ method: 'DELETE', url: '/api/collections/pastes', headers: alice })).statusCode, 204)
  })

  await t.test('an upsert replaces what an id held, metadata included', async (t) => {
    await post('/api/collections/field-notes/documents', { documents: [{ id: 'swap', text: 'old text', metadata: { a: 1, b: 'two' } }] })
    await post('/api/collections/field-notes/documents', { documents: [{ id: 'swap', text: 'new text', metadata: { a: 3 } }] })
    t.same((await app.inject({ url: '/api/collections/field-notes/documents/swap', headers: alice })).json(), { id: 'swap', text: 'new text', metadata: { a: 3 } })
    await post('/api/collections/field-notes/documents', { documents: [{ id: 'swap', text: 'bare text' }] })
    t.same((await app.inject({ url: '/api/collections/field-notes/documents/swap', headers: alice })).json(), { id: 'swap', text: 'bare text', metadata: {} })
  })

  await t.test('metadata filters narrow a query; a bad filter is a 400', async (t) => {
    const res = await post('/api/collections/field-notes/query', { text: 'a seal seen at dawn', k: 20, where: { $and: [{ animal: 'otter' }, { n: { $lt: 100 } }] } })
    t.equal(res.statusCode, 200)
    const results = res.json().results as Array<{ metadata: { animal: string, n: number } }>
    t.equal(results.length, 13, 'the otters among the first 100 notes')
    t.ok(results.every((r) => r.metadata.animal === 'otter' && r.metadata.n < 100))
    const bad = await post('/api/collections/field-notes/query', { text: 'seal', where: { n: { $gt: 'ten' } } })
    t.equal(bad.statusCode, 400)
    t.equal(bad.json().error.code, 'MEMORY_BAD_FILTER')
    t.match(bad.json().error.message, /body\/where/)
  })

  await t.test('a document is read and deleted by id', async (t) => {
    t.equal((await app.inject({ method: 'DELETE', url: '/api/collections/field-notes/documents/note-5', headers: alice })).statusCode, 204)
    const gone = await app.inject({ url: '/api/collections/field-notes/documents/note-5', headers: alice })
    t.equal(gone.statusCode, 404)
    t.equal(gone.json().error.code, 'MEMORY_DOCUMENT_NOT_FOUND')
    t.equal((await app.inject({ method: 'DELETE', url: '/api/collections/field-notes/documents/note-5', headers: alice })).statusCode, 404)
  })

  await t.test('names and ids are validated, and the answer names the field', async (t) => {
    const badName = await post('/api/collections', { name: 'no spaces!' })
    t.equal(badName.statusCode, 400)
    t.equal(badName.json().error.code, 'MEMORY_VALIDATION')
    t.match(badName.json().error.message, /body\/name/)
    t.match((await post('/api/collections', { name: 'x'.repeat(65) })).json().error.message, /body\/name/)
    t.match((await post('/api/collections', { name: 'ends-with-' })).json().error.message, /body\/name/)
    t.match((await app.inject({ url: '/api/collections/bad%20name', headers: alice })).json().error.message, /params\/name/)
    const badId = await post('/api/collections/field-notes/documents', { documents: [{ id: '../etc', text: 'x' }] })
    t.equal(badId.statusCode, 400)
    t.match(badId.json().error.message, /body\/documents\/0\/id/)
    t.match((await post('/api/collections/field-notes/documents', { documents: [] })).json().error.message, /body\/documents/)
    t.match((await post('/api/collections/field-notes/documents', { documents: [{ text: 'x', metadata: { $where: 1 } }] })).json().error.message, /body\/documents\/0\/metadata/)
    t.match((await post('/api/collections/field-notes/query', { text: '' })).json().error.message, /body\/text/)
    t.equal((await app.inject({ url: '/api/collections' })).statusCode, 401, 'a token is required')
  })

  await t.test('another user can neither read, query, write nor delete a private collection: it does not exist for them', async (t) => {
    const bob = auth('bob')
    const calls = [
      await app.inject({ url: '/api/collections/field-notes', headers: bob }),
      await post('/api/collections/field-notes/query', { text: 'puffin' }, 'bob'),
      await app.inject({ url: '/api/collections/field-notes/documents/note-1', headers: bob }),
      await post('/api/collections/field-notes/documents', { documents: [{ id: 'note-1', text: 'overwritten' }] }, 'bob'),
      await app.inject({ method: 'DELETE', url: '/api/collections/field-notes/documents/note-1', headers: bob }),
      await app.inject({ method: 'DELETE', url: '/api/collections/field-notes', headers: bob })
    ]
    t.same(calls.map((c) => c.statusCode), [404, 404, 404, 404, 404, 404])
    t.ok(calls.every((c) => c.json().error.code === 'MEMORY_COLLECTION_NOT_FOUND'))
    t.same((await app.inject({ url: '/api/collections', headers: bob })).json().collections, [], 'nor is it listed')
    t.equal((await app.inject({ url: '/api/collections/field-notes/documents/note-1', headers: alice })).json().text, note(1), 'alice\'s document is untouched')

    // Bob may have his own collection of the same name: it is another collection.
    t.equal((await post('/api/collections', { name: 'field-notes' }, 'bob')).statusCode, 201)
    t.equal((await app.inject({ url: '/api/collections/field-notes', headers: bob })).json().count, 0)
    t.equal((await app.inject({ url: '/api/collections/field-notes', headers: alice })).json().count, 1002)
  })

  await t.test('a shared collection is readable by everyone and writable by its owner only', async (t) => {
    t.equal((await post('/api/collections', { name: 'tide-tables', shared: true })).statusCode, 201)
    await post('/api/collections/tide-tables/documents', { documents: [{ id: 'high', text: 'High tide at noon in the harbour' }, { id: 'low', text: 'Low tide at six with mudflats showing' }] })
    const carol = auth('carol')
    const listed = (await app.inject({ url: '/api/collections', headers: carol })).json().collections
    t.same(listed.map((c: { name: string, owner: string, shared: boolean }) => [c.name, c.owner, c.shared]), [['tide-tables', 'alice', true]])
    t.equal((await post('/api/collections/tide-tables/query', { text: 'mudflats at low tide', k: 1 }, 'carol')).json().results[0].id, 'low')
    t.equal((await app.inject({ url: '/api/collections/tide-tables/documents/high', headers: carol })).statusCode, 200)
    const write = await post('/api/collections/tide-tables/documents', { documents: [{ id: 'high', text: 'changed' }] }, 'carol')
    t.equal(write.statusCode, 403)
    t.equal(write.json().error.code, 'MEMORY_COLLECTION_READ_ONLY')
    t.equal((await app.inject({ method: 'DELETE', url: '/api/collections/tide-tables/documents/high', headers: carol })).statusCode, 403)
    t.equal((await app.inject({ method: 'DELETE', url: '/api/collections/tide-tables', headers: carol })).statusCode, 403)
    t.equal((await post('/api/collections', { name: 'tide-tables', shared: true }, 'carol')).json().error.code, 'MEMORY_COLLECTION_EXISTS', 'shared names are one namespace')
    t.equal((await app.inject({ method: 'DELETE', url: '/api/collections/tide-tables', headers: alice })).statusCode, 204, 'the owner may delete it')
    t.equal((await app.inject({ url: '/api/collections/tide-tables', headers: carol })).statusCode, 404)
  })

  await t.test('a collection built with another embedding model is refused, not queried with garbage', async (t) => {
    const other = await build(t, { ...env, EMBEDDING_MODEL: 'text-embedding-3-small' })
    const res = await other.inject({ method: 'POST', url: '/api/collections/field-notes/query', headers: { ...alice, 'content-type': 'application/json' }, payload: JSON.stringify({ text: 'puffin' }) })
    t.equal(res.statusCode, 409)
    t.equal(res.json().error.code, 'MEMORY_EMBEDDING_MISMATCH')
    t.match(res.json().error.message, /skein-sim-embed.*text-embedding-3-small/)
    const shorter = await build(t, { ...env, EMBEDDING_DIMENSIONS: '64' })
    const dims = await shorter.inject({ method: 'POST', url: '/api/collections/field-notes/documents', headers: { ...alice, 'content-type': 'application/json' }, payload: JSON.stringify({ documents: [{ text: 'a short vector' }] }) })
    t.equal(dims.statusCode, 409)
    t.match(dims.json().error.message, /256 dimensions.*64 dimensions/)
  })

  await t.test('a collection deleted by its owner is gone, documents and all', async (t) => {
    t.equal((await app.inject({ method: 'DELETE', url: '/api/collections/field-notes', headers: alice })).statusCode, 204)
    t.equal((await app.inject({ url: '/api/collections/field-notes', headers: alice })).statusCode, 404)
    t.equal((await post('/api/collections', { name: 'field-notes' })).json().count, 0, 'and the name can be used again')
  })
})
