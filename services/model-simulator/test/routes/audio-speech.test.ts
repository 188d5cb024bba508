import { test } from 'tap'
import { build, sdk } from '../helper.js'
import { readWav } from '../media.js'

test('the SDK gets a real WAV whose length follows the words', async (t) => {
  const { url } = await build(t)
  const client = sdk(url)
  const input = 'The quick brown fox jumps over the lazy dog'
  const res = await client.audio.speech.create({ model: 'skein-sim-tts', voice: 'alloy', input, response_format: 'wav' })
  t.equal(res.headers.get('content-type'), 'audio/wav')
  const wav = readWav(Buffer.from(await res.arrayBuffer()))
  t.equal(wav.format, 1, 'PCM')
  t.equal(wav.channels, 1, 'mono')
  t.equal(wav.bitsPerSample, 16)
  t.equal(wav.sampleRate, 24_000)
  t.equal(wav.samples.length, 9 * 0.35 * 24_000, '9 words, 0.35 s each')
  t.ok(wav.samples.some((s) => Math.abs(s) > 10_000), 'audible')

  const again = await client.audio.speech.create({ model: 'tts-1', voice: 'alloy', input, response_format: 'wav' })
  t.ok(Buffer.from(await again.arrayBuffer()).equals(Buffer.from(await (await client.audio.speech.create({ model: 'gpt-4o-mini-tts', voice: 'alloy', input })).arrayBuffer())), 'aliases speak alike, deterministically')
})

test('short texts last half a second; speed shortens; other formats say they are WAV; pcm is raw', async (t) => {
  const { url } = await build(t)
  const client = sdk(url)
  const short = readWav(Buffer.from(await (await client.audio.speech.create({ model: 'skein-sim-tts', voice: 'echo', input: 'Hi' })).arrayBuffer()))
  t.equal(short.samples.length / short.sampleRate, 0.5)

  const fast = readWav(Buffer.from(await (await client.audio.speech.create({ model: 'skein-sim-tts', voice: 'echo', input: 'one two three four', speed: 2 })).arrayBuffer()))
  t.equal(fast.samples.length, 4 * 4200)

  const mp3 = await client.audio.speech.create({ model: 'skein-sim-tts', voice: 'echo', input: 'one two three', response_format: 'mp3' })
  t.equal(mp3.headers.get('content-type'), 'audio/wav', 'the content-type says it is WAV')
  t.equal(mp3.headers.get('x-sim-audio-format'), 'wav (asked for mp3)')
  t.equal(readWav(Buffer.from(await mp3.arrayBuffer())).samples.length, 3 * 8400)

  const pcm = await client.audio.speech.create({ model: 'skein-sim-tts', voice: 'echo', input: 'one two three', response_format: 'pcm' })
  t.equal(pcm.headers.get('content-type'), 'audio/pcm')
  t.equal((await pcm.arrayBuffer()).byteLength, 3 * 8400 * 2, 'raw 16-bit samples, no header')
})

test('unknown models are 404s and bad bodies 400s, in the error format', async (t) => {
  const { app } = await build(t)
  const unknown = await app.inject({ method: 'POST', url: '/v1/audio/speech', payload: { model: 'whisper-1', voice: 'alloy', input: 'hi' } })
  t.equal(unknown.statusCode, 404)
  t.equal(unknown.json().error.code, 'model_not_found')
  const empty = await app.inject({ method: 'POST', url: '/v1/audio/speech', payload: { model: 'tts-1', voice: 'alloy', input: '' } })
  t.equal(empty.statusCode, 400)
  t.equal(empty.json().error.code, 'SIM_VALIDATION')
  t.match(empty.json().error.message, /input/)
  const speed = await app.inject({ method: 'POST', url: '/v1/audio/speech', payload: { model: 'tts-1', voice: 'alloy', input: 'hi', speed: 9 } })
  t.equal(speed.statusCode, 400)
  t.match(speed.json().error.message, /speed/)
})
