import { test } from 'tap'
import { glyphPixel, toFontText } from '../src/bitmap-font.js'

const render = (char: string): string[] => Array.from({ length: 7 }, (_, y) => Array.from({ length: 5 }, (_, x) => (glyphPixel(char, x, y) ? '#' : '.')).join(''))

test('glyphs are 5x7 bitmaps, top row first', async (t) => {
  t.same(render('H'), ['#...#', '#...#', '#...#', '#####', '#...#', '#...#', '#...#'])
  t.same(render('['), ['.###.', '.#...', '.#...', '.#...', '.#...', '.#...', '.###.'])
  t.same(render(' '), Array(7).fill('.....'))
  t.same(render('\u0001'), render('?'), 'characters outside the font draw as ?')
})

test('text is folded into what the font can draw', async (t) => {
  t.equal(toFontText('Café “déjà vu” — naïve'), 'Cafe "deja vu" - naive')
  t.equal(toFontText('tabs\tand\nlines'), 'tabs and lines')
  t.equal(toFontText('日本'), '??')
})
