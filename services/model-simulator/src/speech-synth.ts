import { hash32, words } from './text.js'

export const SPEECH_SAMPLE_RATE = 24_000
export const SECONDS_PER_WORD = 0.35
export const MIN_SPEECH_SECONDS = 0.5
export const MAX_SPEECH_SECONDS = 60

/** Samples one word takes at a speed (1 is normal, 2 twice as fast). */
export function samplesPerWord (speed = 1, sampleRate = SPEECH_SAMPLE_RATE): number {
  return Math.round(SECONDS_PER_WORD * sampleRate / speed)
}

/** The length of the speech for a text, in samples: 0.35 s a word at speed 1, at least 0.5 s, at most 60 s. */
export function speechSamples (text: string, speed = 1, sampleRate = SPEECH_SAMPLE_RATE): number {
  const natural = words(text).length * samplesPerWord(speed, sampleRate)
  return Math.min(Math.round(MAX_SPEECH_SECONDS * sampleRate), Math.max(Math.round(MIN_SPEECH_SECONDS * sampleRate), natural))
}

/**
 * Simulated speech: for each word a short run of tones (one per syllable-sized piece of the word, pitched from
 * the word and the voice), shaped so that they neither click nor clip, then a short pause. Deterministic:
 * the same text, voice and speed give the same samples.
 */
export function synthesizeSpeech (text: string, voice = 'alloy', speed = 1, sampleRate = SPEECH_SAMPLE_RATE): Int16Array {
  const out = new Int16Array(speechSamples(text, speed, sampleRate))
  const perWord = samplesPerWord(speed, sampleRate)
  const voicePitch = 0.8 + (hash32(`voice:${voice}`) % 450) / 1000 // 0.80 … 1.25
  const fade = Math.round(0.008 * sampleRate)
  words(text).forEach((word, w) => {
    const start = w * perWord
    if (start >= out.length) return
    const voiced = Math.min(Math.round(perWord * 0.78), out.length - start)
    const syllables = Math.min(3, Math.max(1, Math.ceil(word.length / 3)))
    const length = Math.floor(voiced / syllables)
    for (let s = 0; s < syllables; s++) {
      const frequency = (170 + (hash32(`${word}#${s}`) % 300)) * voicePitch
      const from = start + s * length
      for (let i = 0; i < length && from + i < out.length; i++) {
        const envelope = Math.min(1, i / fade, (length - i) / fade)
        const t = i / sampleRate
        const wave = Math.sin(2 * Math.PI * frequency * t) + 0.3 * Math.sin(4 * Math.PI * frequency * t)
        out[from + i] = Math.round(wave / 1.3 * envelope * 0.6 * 32767)
      }
    }
  })
  return out
}
