import { crc32, inflateSync } from 'node:zlib'

// Readers for the media the simulator makes, written apart from its encoders (node's own CRC-32 and inflate),
// so that a test checks the files against the formats, not against the code that wrote them.

export interface Wav { format: number, channels: number, sampleRate: number, bitsPerSample: number, byteRate: number, samples: Int16Array }

export function readWav (bytes: Buffer): Wav {
  if (bytes.toString('ascii', 0, 4) !== 'RIFF' || bytes.toString('ascii', 8, 12) !== 'WAVE') throw new Error('not RIFF/WAVE')
  if (bytes.readUInt32LE(4) !== bytes.length - 8) throw new Error('RIFF size does not match the file')
  let fmt: Omit<Wav, 'samples'> | undefined
  for (let at = 12; at + 8 <= bytes.length;) {
    const id = bytes.toString('ascii', at, at + 4)
    const size = bytes.readUInt32LE(at + 4)
    const body = bytes.subarray(at + 8, at + 8 + size)
    if (id === 'fmt ') fmt = { format: body.readUInt16LE(0), channels: body.readUInt16LE(2), sampleRate: body.readUInt32LE(4), byteRate: body.readUInt32LE(8), bitsPerSample: body.readUInt16LE(14) }
    if (id === 'data') {
      if (!fmt) throw new Error('data before fmt')
      const samples = new Int16Array(size / 2)
      for (let i = 0; i < samples.length; i++) samples[i] = body.readInt16LE(i * 2)
      return { ...fmt, samples }
    }
    at += 8 + size + (size % 2)
  }
  throw new Error('no data chunk')
}

export interface Png { width: number, height: number, bitDepth: number, colorType: number, chunks: string[], pixels: Uint8Array }

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

/** Reads an 8-bit RGB, non-interlaced PNG: checks every chunk's CRC and undoes the five scanline filters. */
export function readPng (bytes: Buffer): Png {
  if (!bytes.subarray(0, 8).equals(SIGNATURE)) throw new Error('no PNG signature')
  const chunks: string[] = []
  const idat: Buffer[] = []
  let width = 0
  let height = 0
  let bitDepth = 0
  let colorType = 0
  for (let at = 8; at < bytes.length;) {
    const length = bytes.readUInt32BE(at)
    const type = bytes.toString('ascii', at + 4, at + 8)
    const data = bytes.subarray(at + 8, at + 8 + length)
    if (crc32(bytes.subarray(at + 4, at + 8 + length)) !== bytes.readUInt32BE(at + 8 + length)) throw new Error(`bad CRC in ${type}`)
    chunks.push(type)
    if (type === 'IHDR') { width = data.readUInt32BE(0); height = data.readUInt32BE(4); bitDepth = data[8]!; colorType = data[9]! }
    if (type === 'IDAT') idat.push(data)
    at += 12 + length
  }
  const raw = inflateSync(Buffer.concat(idat))
  const stride = width * 3
  const pixels = new Uint8Array(stride * height)
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!
    for (let i = 0; i < stride; i++) {
      const x = raw[y * (stride + 1) + 1 + i]!
      const a = i >= 3 ? pixels[y * stride + i - 3]! : 0
      const b = y > 0 ? pixels[(y - 1) * stride + i]! : 0
      const c = i >= 3 && y > 0 ? pixels[(y - 1) * stride + i - 3]! : 0
      const p = a + b - c
      const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c
      const predictor = [0, a, b, (a + b) >> 1, paeth][filter]
      if (predictor === undefined) throw new Error(`bad filter ${filter}`)
      pixels[y * stride + i] = (x + predictor) & 0xff
    }
  }
  return { width, height, bitDepth, colorType, chunks, pixels }
}
