import { GLYPH_HEIGHT, GLYPH_WIDTH, glyphPixel, toFontText } from './bitmap-font.js'

export type Rgb = readonly [number, number, number]

/** A colour from hue (0-360), saturation and lightness (0-1). */
export function hsl (h: number, s: number, l: number): Rgb {
  const k = (n: number): number => (n + h / 30) % 12
  const a = s * Math.min(l, 1 - l)
  const f = (n: number): number => Math.round(255 * (l - a * Math.max(-1, Math.min(k(n) - 3, 9 - k(n), 1))))
  return [f(0), f(8), f(4)]
}

/** An RGB raster (8 bits a channel, rows top to bottom) with the few drawing operations pictures need. */
export class Canvas {
  readonly pixels: Uint8Array

  constructor (readonly width: number, readonly height: number) {
    this.pixels = new Uint8Array(width * height * 3)
  }

  /** Mixes a colour into one pixel; pixels outside the canvas are ignored. */
  blend (x: number, y: number, color: Rgb, alpha = 1): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return
    const i = (y * this.width + x) * 3
    const p = this.pixels
    p[i] = Math.round(p[i]! + (color[0] - p[i]!) * alpha)
    p[i + 1] = Math.round(p[i + 1]! + (color[1] - p[i + 1]!) * alpha)
    p[i + 2] = Math.round(p[i + 2]! + (color[2] - p[i + 2]!) * alpha)
  }

  /** Fills the canvas with a gradient from one colour (top left) to another (bottom right), weighted on x and y (≥ 0). */
  gradient (from: Rgb, to: Rgb, wx: number, wy: number): void {
    const total = wx + wy || 1
    for (let y = 0; y < this.height; y++) {
      for (let x = 0; x < this.width; x++) {
        const u = (wx * x / Math.max(1, this.width - 1) + wy * y / Math.max(1, this.height - 1)) / total
        const i = (y * this.width + x) * 3
        this.pixels[i] = Math.round(from[0] + (to[0] - from[0]) * u)
        this.pixels[i + 1] = Math.round(from[1] + (to[1] - from[1]) * u)
        this.pixels[i + 2] = Math.round(from[2] + (to[2] - from[2]) * u)
      }
    }
  }

  fillRect (x0: number, y0: number, w: number, h: number, color: Rgb, alpha = 1): void {
    const x1 = Math.min(this.width, Math.round(x0 + w))
    const y1 = Math.min(this.height, Math.round(y0 + h))
    for (let y = Math.max(0, Math.round(y0)); y < y1; y++) {
      for (let x = Math.max(0, Math.round(x0)); x < x1; x++) this.blend(x, y, color, alpha)
    }
  }

  fillCircle (cx: number, cy: number, r: number, color: Rgb, alpha = 1): void {
    const r2 = r * r
    for (let y = Math.max(0, Math.floor(cy - r)); y <= Math.min(this.height - 1, Math.ceil(cy + r)); y++) {
      for (let x = Math.max(0, Math.floor(cx - r)); x <= Math.min(this.width - 1, Math.ceil(cx + r)); x++) {
        const dx = x - cx
        const dy = y - cy
        if (dx * dx + dy * dy <= r2) this.blend(x, y, color, alpha)
      }
    }
  }

  /** Width in pixels of a line of text in the 5x7 font at a scale (one blank column between glyphs). */
  static textWidth (text: string, scale: number): number {
    return text.length ? (text.length * (GLYPH_WIDTH + 1) - 1) * scale : 0
  }

  /** Draws a line of text in the 5x7 font, each font pixel a scale x scale square, top-left at (x, y). */
  drawText (text: string, x: number, y: number, scale: number, color: Rgb): void {
    const line = toFontText(text)
    for (let c = 0; c < line.length; c++) {
      const ch = line[c]!
      const left = x + c * (GLYPH_WIDTH + 1) * scale
      for (let gy = 0; gy < GLYPH_HEIGHT; gy++) {
        for (let gx = 0; gx < GLYPH_WIDTH; gx++) {
          if (glyphPixel(ch, gx, gy)) this.fillRect(left + gx * scale, y + gy * scale, scale, scale, color)
        }
      }
    }
  }
}
