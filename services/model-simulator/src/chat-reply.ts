import type { ChatMessage } from '@skein/schemas'
import { hash32, words } from './text.js'


const STOP = new Set(('a an and are as at be but by can could did do does for from had has have how i if in into is it its ' +
  'me my of on or our please should so than that the their them then there these they this to too us was we were what ' +
  'when where which who why will with would you your tell about give write explain make let lets just some any all').split(' '))

/** The text of a message, whatever its content shape. */
export function messageText (m: ChatMessage): string {
  if (typeof m.content === 'string') return m.content
  if (Array.isArray(m.content)) return m.content.map((p) => p.text ?? '').join(' ')
  return ''
}

/** The few words that carry a text's meaning: not stop words, longest and most repeated first. */
export function keyTerms (text: string, max = 4): string[] {
  const counts = new Map<string, number>()
  for (const w of words(text)) if (!STOP.has(w) && w.length > 2) counts.set(w, (counts.get(w) ?? 0) + 1)
  return [...counts].sort((a, b) => b[1] - a[1] || b[0].length - a[0].length || a[0].localeCompare(b[0])).slice(0, max).map(([w]) => w)
}

function list (items: string[]): string {
  if (items.length <= 1) return items[0] ?? 'this'
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`
}

const OPENERS = [
  (t: string) => `Here is a simulated answer about ${t}.`,
  (t: string) => `Let me think this through with you: the question is about ${t}.`,
  (t: string) => `Good question. The heart of it is ${t}.`,
  (t: string) => `Thanks for asking about ${t}.`
]
const MIDDLES = [
  (t: string) => `The first thing to settle is what ${t} means in your situation, because the right approach follows from that.`,
  (t: string) => `A practical way in is to start small with ${t}, check the result, and only then widen the scope.`,
  (t: string) => `It helps to separate what is known about ${t} from what still needs to be decided.`,
  (t: string) => `Most of the work around ${t} comes down to a few clear steps done in the right order.`
]
const CLOSERS = [
  'If you tell me more about your constraints, I can make this more specific.',
  'I can break this into smaller steps if that would help.',
  'Let me know which part you would like to go deeper on.',
  'That should give you a solid place to start.'
]

const MORE = [
  (t: string, u: string) => `Another angle on ${t} is ${u}, which changes the order in which things should happen.`,
  (t: string, u: string) => `When ${t} grows, ${u} tends to matter more, so it pays to keep an eye on it early.`,
  (t: string, u: string) => `A common mistake with ${t} is to skip ${u}; checking it first saves time later.`,
  (t: string, u: string) => `In practice ${t} and ${u} are easier to handle together than one after the other.`,
  (t: string, u: string) => `Looking back at ${t}, the part about ${u} is where most of the real decisions are made.`
]
/** The longest answer the simulator writes on request. */
export const MAX_REQUESTED_WORDS = 4000

/** "… in 500 words", "a 300-word answer", "about 200 tokens": the length the last message asks for. */
const LENGTH_REQUEST = /\b(\d{1,5})[\s-]*(?:words?|tokens?)\b/i

export function requestedWords (text: string): number | undefined {
  const m = LENGTH_REQUEST.exec(text)
  const n = m ? Number(m[1]) : NaN
  return Number.isFinite(n) && n > 0 ? Math.min(n, MAX_REQUESTED_WORDS) : undefined
}

/**
 * A fluent, deterministic reply built from the conversation (not an echo): it names the key terms of the
 * last user message, recalls the previous one, and is marked as simulated. A message that asks for a length
 * ("in 500 words") gets an answer of that many words.
 */
export function composeReply (messages: ChatMessage[]): string {
  const users = messages.filter((m) => m.role === 'user').map(messageText)
  const last = users[users.length - 1] ?? messageText(messages[messages.length - 1] ?? { role: 'user', content: '' })
  const terms = keyTerms(last.replace(LENGTH_REQUEST, ' '))
  const topic = list(terms.length ? terms : ['your message'])
  const seed = hash32(messages.map((m) => `${m.role}:${messageText(m)}`).join('\n'))
  const pick = <T>(arr: T[], salt: number): T => arr[(seed + salt) % arr.length]!
  const parts = ['[simulated]', pick(OPENERS, 0)(topic)]
  const previous = users.length > 1 ? keyTerms(users[users.length - 2]!, 2) : []
  if (previous.length) parts.push(`Building on what you said earlier about ${list(previous)}, this fits together naturally.`)
  parts.push(pick(MIDDLES, 1)(terms[0] ?? 'it'))
  if (terms.length > 1) parts.push(`Then look at how ${list(terms.slice(1))} relate to ${terms[0]}, since that is where the details matter.`)
  parts.push(pick(CLOSERS, 2))
  const wanted = requestedWords(last)
  if (wanted === undefined) return parts.join(' ')
  const closer = parts.pop()!
  const vocabulary = terms.length ? terms : ['your message']
  const count = (): number => tokenize(parts.join(' ')).length
  for (let i = 0; count() < wanted - tokenize(closer).length; i++) {
    const t = vocabulary[i % vocabulary.length]!
    const u = vocabulary[(i + 1) % vocabulary.length] === t ? 'the details' : vocabulary[(i + 1) % vocabulary.length]!
    parts.push(pick(MORE, 3 + i)(t, u))
  }
  return tokenize(`${parts.join(' ')} ${closer}`).slice(0, wanted).join('')
}

/** Splits a reply into stream tokens: each word with its leading space, as real tokenizers tend to. */
export function tokenize (text: string): string[] {
  return text.match(/\s*\S+/g) ?? []
}
