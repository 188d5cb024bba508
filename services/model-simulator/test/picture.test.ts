import { test } from 'tap'
import { drawPicture, wrapText } from '../src/picture.js'

test('wraps words into lines, breaks overlong words, and marks a cut with ...', async (t) => {
  t.same(wrapText('the quick brown fox jumps', 10, 5), ['the quick', 'brown fox', 'jumps'])
  t.same(wrapText('abcdefghijklmnop', 6, 5), ['abcdef', 'ghijkl', 'mnop'])
  t.same(wrapText('one two three four five six', 9, 2), ['one two', 'three...'])
  t.same(wrapText('  ', 10, 3), [])
})

test('the picture is deterministic per prompt and variant, carries the label and the prompt', async (t) => {
  const a = drawPicture('a lighthouse at dusk', 256, 256)
  t.ok(Buffer.from(a.pixels).equals(Buffer.from(drawPicture('a lighthouse at dusk', 256, 256).pixels)), 'same prompt, same pixels')
  t.notOk(Buffer.from(a.pixels).equals(Buffer.from(drawPicture('a lighthouse at dusk', 256, 256, 1).pixels)), 'another variant differs')
  t.notOk(Buffer.from(a.pixels).equals(Buffer.from(drawPicture('a lighthouse at noon', 256, 256).pixels)), 'another prompt differs')

  const count = (x0: number, y0: number, x1: number, y1: number, test: (r: number, g: number, b: number) => boolean): number => {
    let n = 0
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        const i = (y * a.width + x) * 3
        if (test(a.pixels[i]!, a.pixels[i + 1]!, a.pixels[i + 2]!)) n++
      }
    }
    return n
  }
  t.ok(count(0, 0, 128, 40, (r, g, b) => r === 255 && g === 214 && b === 10) > 50, 'the yellow [simulated] label is in the top-left corner')
  t.ok(count(0, 200, 256, 256, (r, g, b) => r === 255 && g === 255 && b === 255) > 100, 'the prompt is written in white along the bottom')
})
