import { test } from 'tap'
import { auth, build, nats, simulator } from './helper.js'

type T = Parameters<Parameters<typeof test>[1]>[0]

async function service (t: T, sim: Record<string, string> = {}) {
  const n = await nats(t)
  const base = await simulator(t, sim)
  return await build(t, { NATS_URL: n.url, OPENAI_BASE_URL: base, OPENAI_API_KEY: 'sim', MODEL_BACKEND: 'simulator' })
}

test('POST /speech stores a WAV whose URL serves it', async (t) => {
  const app = await service(t)
  const res = await app.inject({ method: 'POST', url: '/speech', headers: auth('alice'), payload: { text: 'Hello from the simulated voice of Skein' } })
  t.equal(res.statusCode, 201)
  const item = res.json()
  t.match(item, { kind: 'audio', mime: 'audio/wav', model: 'skein-sim-tts', url: `/media/${item.id}` })
  t.ok(item.size > 44)
  const bytes = await app.inject({ url: item.url, headers: auth('bob') })
  t.equal(bytes.statusCode, 200)
  t.equal(bytes.headers['content-type'], 'audio/wav')
  t.equal(bytes.rawPayload.length, item.size)
  t.equal(bytes.rawPayload.subarray(0, 4).toString(), 'RIFF')
  t.equal(bytes.rawPayload.subarray(8, 12).toString(), 'WAVE')
})

test('POST /images stores a PNG of the asked size; media needs a token (or ?token= for <img>)', async (t) => {
  const app = await service(t)
  const res = await app.inject({ method: 'POST', url: '/images', headers: auth(), payload: { prompt: 'A lighthouse at dusk', size: '256x256' } })
  t.equal(res.statusCode, 201)
  const item = res.json()
  t.match(item, { kind: 'image', mime: 'image/png' })
  const token = auth().authorization.slice('Bearer '.length)
  const png = await app.inject({ url: `${item.url}?token=${token}` })
  t.equal(png.statusCode, 200)
  t.equal(png.headers['content-type'], 'image/png')
  const b = png.rawPayload
  t.same([...b.subarray(1, 4)], [...Buffer.from('PNG')])
  t.equal(b.readUInt32BE(16), 256, 'width')
  t.equal(b.readUInt32BE(20), 256, 'height')
  t.equal((await app.inject({ url: item.url })).statusCode, 401)
  const missing = await app.inject({ url: '/media/00000000-0000-0000-0000-000000000000', headers: auth() })
  t.equal(missing.statusCode, 404)
  t.equal(missing.json().error.code, 'OPENAI_MEDIA_NOT_FOUND')
  const bad = await app.inject({ method: 'POST', url: '/images', headers: auth(), payload: { prompt: 'x', size: '13x13' } })
  t.equal(bad.statusCode, 400)
  t.match(bad.json().error.message, /size/)
})

test('a failing backend is a 502 naming it, not a crash', async (t) => {
  const app = await service(t, { SIM_FAULT: 'status=500' })
  const res = await app.inject({ method: 'POST', url: '/speech', headers: auth(), payload: { text: 'hi' } })
  t.equal(res.statusCode, 502)
  t.equal(res.json().error.code, 'OPENAI_BACKEND_ERROR')
})
