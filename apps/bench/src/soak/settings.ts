// The soak's settings: what it holds open, what it sends and for how long, read once from the environment.

export interface SoakSettings {
  /** Measured time, after the warm-up (SOAK_MINUTES). */
  minutes: number
  /** Load before the measured time starts: the "start" numbers are read after it (SOAK_WARMUP_S). */
  warmupS: number
  /** Client sockets, spread evenly over the rooms (SOAK_CONNECTIONS). */
  connections: number
  rooms: number
  /** One chat message per room this often, from its members in turn (SOAK_MESSAGE_EVERY_MS). */
  messageEveryMs: number
  /** One llm_request per room this often, the rooms staggered (SOAK_LLM_EVERY_S). */
  llmEveryS: number
  /** One create_task for the whole soak this often (SOAK_TASK_EVERY_S). */
  taskEveryS: number
  /** How many words each llm_request asks for (SOAK_ANSWER_WORDS). */
  answerWords: number
  /** The model simulator's streaming rate (SIM_TOKENS_PER_SECOND). */
  simTokensPerS: number
  /** Pass when the funnel's RSS at the end is at most this many times its RSS after the warm-up (SOAK_RSS_LIMIT). */
  rssLimit: number
  /** After the load stops, how long answers, tasks and deliveries may take to finish (SOAK_DRAIN_S). */
  drainS: number
  /** Length of one window of the trend: a minute, or a third of a short run (in ms). */
  windowMs: number
}

export const SOAK_DEFAULTS = {
  SOAK_MINUTES: 10,
  SOAK_WARMUP_S: 60,
  SOAK_CONNECTIONS: 2_000,
  SOAK_ROOMS: 20,
  SOAK_MESSAGE_EVERY_MS: 1_500,
  SOAK_LLM_EVERY_S: 30,
  SOAK_TASK_EVERY_S: 30,
  SOAK_ANSWER_WORDS: 60,
  SIM_TOKENS_PER_SECOND: 50,
  SOAK_RSS_LIMIT: 1.2,
  SOAK_DRAIN_S: 120
} as const

type Name = keyof typeof SOAK_DEFAULTS
const INTEGER: ReadonlySet<Name> = new Set(['SOAK_CONNECTIONS', 'SOAK_ROOMS', 'SOAK_ANSWER_WORDS'])

/** Reads the settings from `env`, defaults for what is unset; a bad value throws an error naming its variable. */
export function soakSettings (env: Record<string, string | undefined>): SoakSettings {
  const read = (name: Name): number => {
    const raw = env[name]?.trim()
    if (raw === undefined || raw === '') return SOAK_DEFAULTS[name]
    const value = Number(raw)
    const ok = Number.isFinite(value) && (name === 'SIM_TOKENS_PER_SECOND' || name === 'SOAK_WARMUP_S' ? value >= 0 : value > 0) && (!INTEGER.has(name) || Number.isInteger(value))
    if (!ok) throw new Error(`${name} must be ${INTEGER.has(name) ? 'a positive integer' : 'a positive number'}; it is "${raw}"`)
    return value
  }
  const minutes = read('SOAK_MINUTES')
  const connections = read('SOAK_CONNECTIONS')
  const rooms = read('SOAK_ROOMS')
  if (connections < rooms * 2) throw new Error(`SOAK_CONNECTIONS (${connections}) must be at least twice SOAK_ROOMS (${rooms}): a room needs a sender and a receiver`)
  const rssLimit = read('SOAK_RSS_LIMIT')
  if (rssLimit < 1) throw new Error(`SOAK_RSS_LIMIT must be at least 1; it is ${rssLimit}`)
  return {
    minutes,
    warmupS: read('SOAK_WARMUP_S'),
    connections,
    rooms,
    messageEveryMs: read('SOAK_MESSAGE_EVERY_MS'),
    llmEveryS: read('SOAK_LLM_EVERY_S'),
    taskEveryS: read('SOAK_TASK_EVERY_S'),
    answerWords: read('SOAK_ANSWER_WORDS'),
    simTokensPerS: read('SIM_TOKENS_PER_SECOND'),
    rssLimit,
    drainS: read('SOAK_DRAIN_S'),
    windowMs: Math.min(60_000, (minutes * 60_000) / 3)
  }
}

/** True when the run has the size the issue asks for (2,000 connections, 20 rooms, 10 minutes or more). */
export function fullSize (s: SoakSettings): boolean {
  return s.connections >= SOAK_DEFAULTS.SOAK_CONNECTIONS && s.rooms >= SOAK_DEFAULTS.SOAK_ROOMS && s.minutes >= SOAK_DEFAULTS.SOAK_MINUTES
}

/** The users of room `r` (zero-based), `perRoom` of them: soak-RR-UUUU, valid Skein user names. */
export function roomUsers (r: number, perRoom: number): string[] {
  return Array.from({ length: perRoom }, (_v, u) => `soak-${String(r).padStart(2, '0')}-${String(u).padStart(4, '0')}`)
}

/** How many of `connections` go to each of `rooms` (the first rooms get one more when it does not divide). */
export function roomSizes (connections: number, rooms: number): number[] {
  return Array.from({ length: rooms }, (_v, r) => Math.floor(connections / rooms) + (r < connections % rooms ? 1 : 0))
}
