import { createHash } from 'node:crypto'

/** Words as the simulator counts them: lower-case letters and digits. */
export function words (text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+(?:'[\p{L}]+)?/gu) ?? []
}

/** A rough token count (about 3/4 of a word per token, as OpenAI's tokenizers average on English). */
export function countTokens (text: string): number {
  return Math.ceil(words(text).length * 4 / 3)
}

/** A deterministic 32-bit number from a string. */
export function hash32 (text: string): number {
  return createHash('sha1').update(text).digest().readUInt32LE(0)
}
