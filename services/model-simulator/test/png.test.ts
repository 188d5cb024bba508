import { test } from 'tap'
import { crc32 as nodeCrc32 } from 'node:zlib'
import { crc32, encodePng } from '../src/png.js'
import { readPng } from './media.js'

test('crc32 matches the standard check value and node\'s own', async (t) => {
  t.equal(crc32(Buffer.from('123456789')), 0xcbf43926)
  const bytes = Buffer.from('IEND')
  t.equal(crc32(bytes), nodeCrc32(bytes))
})

test('encodes an RGB image that decodes back to the same pixels', async (t) => {
  const width = 7
  const height = 5
  const rgb = new Uint8Array(width * height * 3)
  for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 37 + (i % 3) * 90) & 0xff
  const png = readPng(encodePng(width, height, rgb))
  t.same(png.chunks, ['IHDR', 'IDAT', 'IEND'])
  t.equal(png.width, width)
  t.equal(png.height, height)
  t.equal(png.bitDepth, 8)
  t.equal(png.colorType, 2, 'truecolour RGB')
  t.same(Array.from(png.pixels), Array.from(rgb))
})

test('refuses sizes and buffers that do not agree', async (t) => {
  t.throws(() => encodePng(0, 1, new Uint8Array(0)), RangeError)
  t.throws(() => encodePng(2, 2, new Uint8Array(11)), RangeError)
})
