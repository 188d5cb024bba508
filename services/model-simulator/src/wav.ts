/** Sample formats the simulator writes: 16-bit signed PCM, one channel. */
export const BITS_PER_SAMPLE = 16
export const CHANNELS = 1

/** Raw PCM bytes, 16-bit little-endian, as OpenAI's `pcm` speech format delivers them. */
export function pcmBytes (samples: Int16Array): Buffer {
  const out = Buffer.alloc(samples.length * 2)
  for (let i = 0; i < samples.length; i++) out.writeInt16LE(samples[i]!, i * 2)
  return out
}

/** A WAV file (RIFF/WAVE, PCM 16-bit mono) of the samples: the 44-byte header, then the data chunk. */
export function encodeWav (samples: Int16Array, sampleRate: number): Buffer {
  const data = pcmBytes(samples)
  const blockAlign = CHANNELS * BITS_PER_SAMPLE / 8
  const header = Buffer.alloc(44)
  header.write('RIFF', 0, 'ascii')
  header.writeUInt32LE(36 + data.length, 4)
  header.write('WAVE', 8, 'ascii')
  header.write('fmt ', 12, 'ascii')
  header.writeUInt32LE(16, 16) // fmt chunk size
  header.writeUInt16LE(1, 20) // PCM
  header.writeUInt16LE(CHANNELS, 22)
  header.writeUInt32LE(sampleRate, 24)
  header.writeUInt32LE(sampleRate * blockAlign, 28) // byte rate
  header.writeUInt16LE(blockAlign, 32)
  header.writeUInt16LE(BITS_PER_SAMPLE, 34)
  header.write('data', 36, 'ascii')
  header.writeUInt32LE(data.length, 40)
  return Buffer.concat([header, data])
}
