import { test } from 'tap'
import { build, sdk } from '../helper.js'
import { readPng } from '../media.js'

const png = (b64: string | undefined): Buffer => Buffer.from(b64 ?? '', 'base64')

test('the SDK gets a real PNG of the requested size, deterministic for a prompt', async (t) => {
  const { url } = await build(t)
  const client = sdk(url)
  const res = await client.images.generate({ model: 'skein-sim-image', prompt: 'A red fox in the snow', size: '256x256' })
  t.equal(res.data?.length, 1)
  t.match(res.data?.[0]?.revised_prompt, /\[simulated\].*A red fox in the snow/)
  const bytes = png(res.data?.[0]?.b64_json)
  const image = readPng(bytes)
  t.same(bytes.subarray(0, 8), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), 'PNG signature')
  t.same([image.width, image.height, image.bitDepth, image.colorType], [256, 256, 8, 2], 'IHDR: 256x256 RGB 8-bit')
  t.same(image.chunks, ['IHDR', 'IDAT', 'IEND'])
  const colours = new Set<number>()
  for (let i = 0; i < image.pixels.length; i += 3) colours.add((image.pixels[i]! << 16) | (image.pixels[i + 1]! << 8) | image.pixels[i + 2]!)
  t.ok(colours.size > 100, `a picture, not a flat fill (${colours.size} colours)`)

  const same = await client.images.generate({ model: 'dall-e-3', prompt: 'A red fox in the snow', size: '256x256' })
  t.ok(png(same.data?.[0]?.b64_json).equals(bytes), 'the same prompt gives the same bytes')
  const other = await client.images.generate({ model: 'gpt-image-1', prompt: 'A blue whale at dawn', size: '256x256' })
  t.notOk(png(other.data?.[0]?.b64_json).equals(bytes), 'another prompt gives other bytes')
})

test('every size, the 1024x1024 default, n pictures, and b64_json even when url is asked', async (t) => {
  const { url } = await build(t)
  const client = sdk(url)
  for (const size of ['512x512', '1024x1792', '1792x1024'] as const) {
    const res = await client.images.generate({ prompt: 'mountains', size })
    const image = readPng(png(res.data?.[0]?.b64_json))
    t.equal(`${image.width}x${image.height}`, size)
  }
  const byDefault = await client.images.generate({ prompt: 'mountains', n: 2, response_format: 'url' })
  t.equal(byDefault.data?.length, 2)
  t.equal(byDefault.data?.[0]?.url, undefined, 'no url: the simulator has nowhere to host images')
  const [a, b] = (byDefault.data ?? []).map((d) => png(d.b64_json))
  t.same([readPng(a!).width, readPng(a!).height], [1024, 1024])
  t.notOk(a!.equals(b!), 'the n pictures differ')
})

test('bad sizes are 400s and unknown models 404s', async (t) => {
  const { app } = await build(t)
  const size = await app.inject({ method: 'POST', url: '/v1/images/generations', payload: { prompt: 'x', size: '100x100' } })
  t.equal(size.statusCode, 400)
  t.equal(size.json().error.code, 'SIM_VALIDATION')
  t.match(size.json().error.message, /size/)
  const model = await app.inject({ method: 'POST', url: '/v1/images/generations', payload: { prompt: 'x', model: 'midjourney' } })
  t.equal(model.statusCode, 404)
  t.equal(model.json().error.code, 'model_not_found')
})
