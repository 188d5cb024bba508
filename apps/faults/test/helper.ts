import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import { jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import { signToken } from '@skein/kit'
import { NatsCluster, NatsServer, startServiceProcess, startSimulator, type Frame, type ServiceProcess, type WsClient } from '@skein/stack'

export const SECRET = 'faults-test-secret-0123456789abcdef01234'

export const token = (user: string, ttl = 3600): string => signToken(SECRET, user, ttl).token
export const authed = (user = 'alice'): Record<string, string> => ({ authorization: `Bearer ${token(user)}`, 'content-type': 'application/json' })

const dataDir = (): string => mkdtempSync(join(tmpdir(), 'skein-faults-'))
/** With FAULTS_LOG_DIR set, every process started here writes its log there (for when a fault test fails). */
let started = 0
const logFile = (name: string): { logFile?: string } => (process.env.FAULTS_LOG_DIR ? { logFile: join(process.env.FAULTS_LOG_DIR, `${name}-${process.pid}-${++started}.log`) } : {})
/** With FAULTS_LOG_DIR set the processes log at info, so that their logs tell the story. */
const logLevel = (): Record<string, string> => (process.env.FAULTS_LOG_DIR ? { LOG_LEVEL: 'info' } : {})

export async function natsServer (t: Test): Promise<NatsServer> {
  const n = await NatsServer.start({ dataDir: dataDir() })
  t.teardown(() => n.stop())
  return n
}

/** Three nodes, and JetStream ready (a meta leader elected) before anything uses it. */
export async function natsCluster (t: Test): Promise<NatsCluster> {
  const cluster = await NatsCluster.start({ dataDir: dataDir() })
  t.teardown(() => cluster.stop())
  const nc = await connect({ servers: cluster.url.split(',') })
  try {
    const deadline = Date.now() + 30_000
    for (;;) {
      try {
        await (await jetstreamManager(nc)).getAccountInfo()
        break
      } catch (err) {
        if (Date.now() > deadline) throw err
        await new Promise((resolve) => setTimeout(resolve, 250))
      }
    }
  } finally {
    await nc.close()
  }
  return cluster
}

export async function simulator (t: Test, env: Record<string, string> = {}): Promise<string> {
  const sim = await startSimulator(env)
  t.teardown(() => sim.stop())
  return sim.url
}

/** An openai-service process on the simulator, stopped in teardown (a killed one too: stop is then a no-op). */
export async function openaiService (t: Test, natsUrl: string, sim: string, env: Record<string, string> = {}): Promise<ServiceProcess> {
  const svc = await startServiceProcess({
    name: 'openai-service',
    entry: 'services/openai-service/dist/server.js',
    timeoutMs: 60_000,
    ...logFile('openai-service'),
    env: { NATS_URL: natsUrl, OPENAI_BASE_URL: sim, OPENAI_API_KEY: 'sim', MODEL_BACKEND: 'simulator', JWT_SECRET: SECRET, THREADS_ACK_WAIT_MS: '1500', ...logLevel(), ...env }
  })
  t.teardown(() => svc.stop())
  return svc
}

/** A funnel process in front of the openai-service at `openai` (its /ws needs NATS only). */
export async function funnel (t: Test, natsUrl: string, openai: string, env: Record<string, string> = {}): Promise<ServiceProcess> {
  const f = await startServiceProcess({
    name: 'funnel',
    entry: 'services/funnel/dist/server.js',
    ready: '/health/funnel',
    timeoutMs: 60_000,
    ...logFile('funnel'),
    env: { NATS_URL: natsUrl, OPENAI_SERVICE_URL: openai, CHROMA_SERVICE_URL: 'http://127.0.0.1:9', JWT_SECRET: SECRET, WS_RATE_PER_S: '200', WS_RATE_BURST: '400', ...logLevel(), ...env }
  })
  t.teardown(() => f.stop())
  return f
}

/** One streamed answer as a client saw it. */
export interface SeenAnswer {
  messageId: string
  /** The tokens by index; an index seen twice is in `repeated`. */
  tokens: Map<number, string>
  repeated: number[]
  seqs: number[]
  completions: Array<{ text: string, finishReason?: string }>
}

/**
 * Every answer in these frames, by message id: an answer streamed again after a crash has its own id (the
 * question's answer id, then `~2`, `~3`…), so the answers to one question are those whose id starts with it.
 */
export function answersTo (frames: Frame[], answerId: string): SeenAnswer[] {
  const byId = new Map<string, SeenAnswer>()
  const get = (id: string): SeenAnswer => {
    let a = byId.get(id)
    if (!a) byId.set(id, a = { messageId: id, tokens: new Map(), repeated: [], seqs: [], completions: [] })
    return a
  }
  for (const f of frames) {
    const id = f.data.messageId
    if (typeof id !== 'string' || (id !== answerId && !id.startsWith(`${answerId}~`))) continue
    const a = get(id)
    a.seqs.push(f.data.seq as number)
    if (f.event === 'llm_token') {
      const index = f.data.index as number
      if (a.tokens.has(index)) a.repeated.push(index)
      a.tokens.set(index, f.data.token as string)
    } else if (f.event === 'llm_complete') {
      a.completions.push({ text: f.data.text as string, ...(typeof f.data.finishReason === 'string' ? { finishReason: f.data.finishReason } : {}) })
    }
  }
  return [...byId.values()]
}

/** The tokens of an answer joined in index order; null when an index is missing. */
export function joined (a: SeenAnswer): string | null {
  const indexes = [...a.tokens.keys()].sort((x, y) => x - y)
  if (indexes.some((i, k) => i !== k)) return null
  return indexes.map((i) => a.tokens.get(i)!).join('')
}

export async function until<V> (what: string, probe: () => Promise<V | null | undefined | false> | V | null | undefined | false, timeoutMs = 60_000): Promise<V> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await Promise.resolve(probe()).catch(() => null)
    if (v) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

/**
 * Joins a room as a reconnecting client does: again while the cluster says it is briefly unavailable, each
 * time from the last seq it saw (a join that failed half-way may have replayed part of the room).
 */
export async function rejoin (c: WsClient, room: string, afterSeq: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const seen = c.frames.filter((f) => f.data.room === room && typeof f.data.seq === 'number' && f.event !== 'ack').map((f) => f.data.seq as number)
    try {
      await c.request('join_room', { room, afterSeq: Math.max(afterSeq, ...seen) })
      return
    } catch (err) {
      const code = (err as { code?: string }).code ?? ''
      if (!/UNAVAILABLE/.test(code) || Date.now() > deadline) throw err
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
  }
}
