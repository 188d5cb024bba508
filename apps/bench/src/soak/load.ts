// The soak's steady load: chat messages in every room, an llm_request per room now and then (the rooms take
// turns), and tasks; each on an absolute schedule, so a late send does not slow the ones after it.
import { setTimeout as sleep } from 'node:timers/promises'
import { nowMs, stampText } from '../realtime/latency.js'
import type { RoomClient } from '../realtime/room-client.js'
import type { DeliveryLedger } from './ledger.js'
import type { SoakSettings } from './settings.js'
import type { Trend } from './trend.js'

export interface SoakRoom {
  id: string
  /** Client numbers (in the ledger) and clients, the same order. */
  members: Array<{ n: number, client: RoomClient }>
}

export interface LoadCounts {
  messages: number
  llmRequests: number
  tasks: number
  acked: number
  refused: number
  /** The first refusals, named. */
  refusals: string[]
}

const TOPICS = [
  'tidal power', 'sourdough starters', 'orbital transfers', 'coral reefs', 'bicycle gearing', 'glacier retreat',
  'printing presses', 'honeybee colonies', 'suspension bridges', 'river deltas', 'violin making', 'desert irrigation',
  'lighthouse optics', 'volcanic soils', 'clock escapements', 'kelp forests', 'canal locks', 'paper folding'
]
const topic = (k: number): string => TOPICS[k % TOPICS.length]!

/** The text of llm_request `k`: asks for an answer of `words` words (the simulator writes that many). */
export function llmPrompt (room: string, k: number, words: number): string {
  return `Explain ${topic(k)} for room ${room} in ${words} words.`
}

/** The text of task `k`: a two-step list, so it is planned into two steps and a final answer. */
export function taskText (k: number): string {
  return `1. Describe ${topic(k)} in 30 words\n2. Describe ${topic(k + 7)} in 30 words`
}

/** Calls `fn(k)` at start + offset + k·interval for every such time before `stopAt` (performance.now() times). */
export async function every (intervalMs: number, offsetMs: number, start: number, stopAt: number, fn: (k: number) => void): Promise<void> {
  for (let k = 0; ; k++) {
    const at = start + offsetMs + k * intervalMs
    if (at >= stopAt) return
    // Timers count whole milliseconds from the loop's cached clock and may fire a little early: wait again.
    for (let wait = at - performance.now(); wait > 0; wait = at - performance.now()) await sleep(Math.ceil(wait))
    fn(k)
  }
}

export interface LoadOptions {
  settings: SoakSettings
  rooms: SoakRoom[]
  ledger: DeliveryLedger
  trend: Trend
  /** An llm_request sent at `sentAt` (performance.now()) was acked: its answer streams as `messageId`. */
  onAsked: (messageId: string, sentAt: number) => void
  /** A create_task sent at `sentAt` was acked as thread `thread`. */
  onTask: (thread: string, sentAt: number) => void
  /** When the load stops (performance.now()). */
  stopAt: number
}

/**
 * Runs the load until `stopAt`; resolves once every request it made has been answered (acked or refused),
 * or 30 s after the last one.
 */
export async function runLoad (o: LoadOptions): Promise<LoadCounts> {
  const counts: LoadCounts = { messages: 0, llmRequests: 0, tasks: 0, acked: 0, refused: 0, refusals: [] }
  const inFlight = new Set<Promise<void>>()
  const track = (what: string, user: string, p: Promise<void>): void => {
    const q = p.then(() => { counts.acked++ }, (err: unknown) => {
      counts.refused++
      if (counts.refusals.length < 10) counts.refusals.push(`${what} by ${user}: ${err instanceof Error ? err.message : String(err)}`)
    }).finally(() => inFlight.delete(q))
    inFlight.add(q)
  }
  const s = o.settings
  const start = performance.now()
  let nextMessage = 0
  const loops: Array<Promise<void>> = []
  o.rooms.forEach((room, r) => {
    const size = room.members.length
    // Messages: the rooms out of step with each other, the members in turn (37 is prime to any room size that is not a multiple of it).
    loops.push(every(s.messageEveryMs, (r * s.messageEveryMs) / o.rooms.length, start, o.stopAt, (k) => {
      const { client } = room.members[(k * 37 + r) % size]!
      const i = nextMessage++
      const sentMs = nowMs()
      const sentAt = performance.now()
      counts.messages++
      track(`message in ${room.id}`, client.user, client.send(room.id, stampText('m', i, sentMs)).then((ack) => {
        o.ledger.acked(room.id, ack.seq, client.user)
        const at = performance.now()
        o.trend.ack(at, at - sentAt)
      }))
    }))
    // Answers: one room at a time, every llmEveryS / rooms seconds.
    loops.push(every(s.llmEveryS * 1000, (r * s.llmEveryS * 1000) / o.rooms.length, start, o.stopAt, (k) => {
      const { client } = room.members[(k * 13 + 5) % size]!
      const sentAt = performance.now()
      counts.llmRequests++
      track(`llm_request in ${room.id}`, client.user, client.request('llm_request', { room: room.id, message: llmPrompt(room.id, k * o.rooms.length + r, s.answerWords) }).then((ack) => {
        o.ledger.answerAsked(room.id, ack.seq as number, ack.messageId as string, client.user)
        o.onAsked(ack.messageId as string, sentAt)
      }))
    }))
  })
  // Tasks: from the rooms' members in turn, under the main thread (their lifecycle events go to the main room).
  loops.push(every(s.taskEveryS * 1000, (s.taskEveryS * 1000) / 2, start, o.stopAt, (k) => {
    const room = o.rooms[k % o.rooms.length]!
    const { client } = room.members[(k * 7 + 3) % room.members.length]!
    const sentAt = performance.now()
    counts.tasks++
    track('create_task', client.user, client.request('create_task', { task: taskText(k) }).then((ack) => {
      o.ledger.taskCreated(ack.thread as string, client.user)
      o.onTask(ack.thread as string, sentAt)
    }))
  }))
  await Promise.all(loops)
  await Promise.race([Promise.all([...inFlight]), sleep(30_000)])
  return counts
}
