import { test } from 'tap'
import { SPEECH_SAMPLE_RATE, samplesPerWord, speechSamples, synthesizeSpeech } from '../src/speech-synth.js'

const bytes = (samples: Int16Array): Buffer => Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength)

test('about 0.35 s a word, at least 0.5 s, at most 60 s', async (t) => {
  t.equal(SPEECH_SAMPLE_RATE, 24_000)
  t.equal(speechSamples('one two three four five six'), 6 * 8400, '6 words: 2.1 s at 24 kHz')
  t.equal(speechSamples('hi'), 12_000, 'short texts last half a second')
  t.equal(speechSamples('word '.repeat(1000)), 60 * 24_000, 'long texts are capped at 60 s')
  t.equal(speechSamples('one two three four five six', 2), 6 * 4200, 'speed 2 halves the time')
  t.equal(samplesPerWord(1, 16_000), 5600, '0.35 s at 16 kHz')
})

test('audible, not clipped, deterministic, and different for different words and voices', async (t) => {
  const a = synthesizeSpeech('hello there world', 'alloy')
  t.equal(a.length, 3 * samplesPerWord())
  const peak = a.reduce((m, s) => Math.max(m, Math.abs(s)), 0)
  t.ok(peak > 10_000 && peak < 32_767, `loud enough and below clipping (peak ${peak})`)
  const word = samplesPerWord()
  const gap = a.subarray(Math.round(word * 0.8), word)
  t.ok(gap.every((s) => s === 0), 'a pause between words')
  t.ok(bytes(synthesizeSpeech('hello there world', 'alloy')).equals(bytes(a)), 'deterministic')
  t.notOk(bytes(synthesizeSpeech('hello there planet', 'alloy')).equals(bytes(a)), 'other words sound different')
  t.notOk(bytes(synthesizeSpeech('hello there world', 'onyx')).equals(bytes(a)), 'other voices sound different')
})
