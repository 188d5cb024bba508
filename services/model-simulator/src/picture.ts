import { GLYPH_HEIGHT, GLYPH_WIDTH, toFontText } from './bitmap-font.js'
import { Canvas, hsl, type Rgb } from './canvas.js'
import { hash32 } from './text.js'

export const SIMULATED_LABEL = '[simulated]'

/** A small deterministic random number generator (mulberry32), so a prompt always draws the same picture. */
function random (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Words wrapped into lines of at most `width` characters; at most `maxLines`, the last ending in "..." when cut. */
export function wrapText (text: string, width: number, maxLines: number): string[] {
  const lines: string[] = []
  let line = ''
  for (const raw of toFontText(text).split(' ').filter(Boolean)) {
    let word = raw
    while (word.length > width) { // a word longer than a line is broken
      if (line) { lines.push(line); line = '' }
      lines.push(word.slice(0, width))
      word = word.slice(width)
    }
    if (!line) line = word
    else if (line.length + 1 + word.length <= width) line += ` ${word}`
    else { lines.push(line); line = word }
  }
  if (line) lines.push(line)
  if (lines.length <= maxLines) return lines
  const kept = lines.slice(0, maxLines)
  const last = kept[maxLines - 1]!
  kept[maxLines - 1] = `${last.slice(0, Math.max(0, width - 3)).trimEnd()}...`
  return kept
}

/**
 * The simulated picture for a prompt: a gradient and soft shapes whose colours, places and sizes come from the
 * prompt, the prompt itself written across the bottom, and a "[simulated]" label in the top-left corner.
 * `variant` tells apart the pictures of one request for several (n > 1).
 */
export function drawPicture (prompt: string, width: number, height: number, variant = 0): Canvas {
  const rnd = random(hash32(`${prompt}\u0000${variant}`))
  const canvas = new Canvas(width, height)
  const hue = rnd() * 360
  const from = hsl(hue, 0.55, 0.3)
  const to = hsl((hue + 60 + rnd() * 120) % 360, 0.6, 0.68)
  canvas.gradient(from, to, 0.3 + rnd(), 0.3 + rnd())

  const side = Math.min(width, height)
  const shapes = 5 + Math.floor(rnd() * 6)
  for (let i = 0; i < shapes; i++) {
    const color = hsl((hue + 180 + rnd() * 140 - 70) % 360, 0.5 + rnd() * 0.4, 0.35 + rnd() * 0.4)
    const x = rnd() * width
    const y = rnd() * height * 0.75
    const size = side * (0.08 + rnd() * 0.22)
    if (rnd() < 0.6) canvas.fillCircle(x, y, size, color, 0.45 + rnd() * 0.35)
    else canvas.fillRect(x - size, y - size * 0.6, size * 2, size * 1.2, color, 0.4 + rnd() * 0.35)
  }

  const scale = Math.max(1, Math.round(side / 320))
  const cellW = (GLYPH_WIDTH + 1) * scale
  const cellH = (GLYPH_HEIGHT + 3) * scale
  const margin = 4 * scale
  const white: Rgb = [255, 255, 255]
  const dark: Rgb = [12, 12, 20]

  const perLine = Math.max(1, Math.floor((width - 4 * margin) / cellW))
  const lines = wrapText(prompt, perLine, Math.max(1, Math.min(8, Math.floor(height * 0.3 / cellH))))
  const panelH = lines.length * cellH + 2 * margin
  canvas.fillRect(0, height - panelH - margin, width, panelH + margin, dark, 0.6)
  lines.forEach((line, i) => canvas.drawText(line, 2 * margin, height - panelH + margin + i * cellH - margin / 2, scale, white))

  const labelScale = scale + 1
  const labelW = Canvas.textWidth(SIMULATED_LABEL, labelScale)
  canvas.fillRect(margin, margin, labelW + 2 * margin, GLYPH_HEIGHT * labelScale + 2 * margin, dark, 0.7)
  canvas.drawText(SIMULATED_LABEL, 2 * margin, 2 * margin, labelScale, [255, 214, 10])
  return canvas
}
