import { test } from 'tap'
import { encodeWav, pcmBytes } from '../src/wav.js'
import { readWav } from './media.js'

test('a WAV file holds the samples as 16-bit mono PCM with a consistent header', async (t) => {
  const samples = Int16Array.from([0, 1, -1, 32767, -32768, 1234])
  const bytes = encodeWav(samples, 16_000)
  t.equal(bytes.length, 44 + samples.length * 2)
  const wav = readWav(bytes)
  t.equal(wav.format, 1, 'PCM')
  t.equal(wav.channels, 1)
  t.equal(wav.sampleRate, 16_000)
  t.equal(wav.bitsPerSample, 16)
  t.equal(wav.byteRate, 32_000)
  t.same(Array.from(wav.samples), Array.from(samples))
})

test('pcm bytes are little-endian 16-bit samples', async (t) => {
  t.same([...pcmBytes(Int16Array.from([1, -2]))], [1, 0, 0xfe, 0xff])
})
