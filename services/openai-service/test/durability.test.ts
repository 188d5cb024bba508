import { test } from 'tap'
import { signToken } from '@skein/kit'
import { startServiceProcess, type ServiceProcess } from '@skein/stack'
import type { ThreadEvent, ThreadMessage, ThreadRecord } from '@skein/schemas'
import { SECRET, nats, simulator, until as untilAnswered } from './helper.js'

const TERMINAL = ['completed', 'failed', 'cancelled']
const ENTRY = 'services/openai-service/dist/server.js'
const headers = { authorization: `Bearer ${signToken(SECRET, 'alice', 3600).token}`, 'content-type': 'application/json' }

/** The helper's until, for up to a minute, a probe that fails (an instance being killed) counting as not yet. */
const until = async <V>(what: string, probe: () => Promise<V | undefined | null | false>, timeoutMs = 60_000): Promise<V> =>
  await untilAnswered(what, async () => await probe().catch(() => null), timeoutMs)

test('killing the openai-service during a step: another instance finishes the task, every report posted exactly once', async (t) => {
  const n = await nats(t)
  const base = await simulator(t, { SIM_TOKENS_PER_SECOND: '25' })
  const env = { NATS_URL: n.url, OPENAI_BASE_URL: base, OPENAI_API_KEY: 'sim', MODEL_BACKEND: 'simulator', JWT_SECRET: SECRET, LOG_LEVEL: 'warn', THREADS_ACK_WAIT_MS: '2000', THREADS_WORKERS: '4' }
  const start = async (name: string): Promise<ServiceProcess> => {
    const service = await startServiceProcess({ name, entry: ENTRY, env })
    t.teardown(() => service.stop())
    return service
  }
  const get = async <V>(url: string): Promise<V> => await (await fetch(url, { headers })).json() as V

  const a = await start('openai-service A')
  const task = await (await fetch(`${a.url}/tasks`, { method: 'POST', headers, body: JSON.stringify({ task: '1. Describe the sun\n2. Describe the moon\n3. Compare the sun and the moon using the results' }) })).json() as ThreadRecord
  await until('a step to be running', async () => {
    const r = await get<ThreadRecord>(`${a.url}/threads/${task.id}`)
    if (r.children.length === 0) return null
    const kids = await Promise.all(r.children.map((c) => get<ThreadRecord>(`${a.url}/threads/${c}`)))
    return kids.some((k) => k.status === 'running')
  })
  await a.proc.kill()
  t.ok(a.proc.hasExited, 'instance A is gone, mid-step')

  const b = await start('openai-service B')
  const done = await until('the task to finish on B', async () => {
    const r = await get<ThreadRecord>(`${b.url}/threads/${task.id}`)
    return TERMINAL.includes(r.status) ? r : null
  })
  t.equal(done.status, 'completed')
  const kids = await Promise.all(done.children.map((c) => get<ThreadRecord>(`${b.url}/threads/${c}`)))
  t.same(kids.map((k) => k.status), ['completed', 'completed', 'completed'], 'no thread is left running')
  const { messages } = await get<{ messages: ThreadMessage[] }>(`${b.url}/threads/main/messages`)
  const reports = messages.filter((m) => m.role === 'report').map((m) => m.from).sort()
  t.same(reports, [...done.children, task.id].sort(), 'each child reported once, and the final answer once')
})

test('the events endpoint replays after Last-Event-ID, then follows live, with no gap and no repeat', async (t) => {
  const n = await nats(t)
  const base = await simulator(t, { SIM_TOKENS_PER_SECOND: '100' })
  const service = await startServiceProcess({ name: 'openai-service', entry: ENTRY, env: { NATS_URL: n.url, OPENAI_BASE_URL: base, OPENAI_API_KEY: 'sim', MODEL_BACKEND: 'simulator', JWT_SECRET: SECRET } })
  t.teardown(() => service.stop())
  const url = service.url

  const read = async (after: number | null, stopWhen: (events: ThreadEvent[]) => boolean): Promise<ThreadEvent[]> => {
    const controller = new AbortController()
    const res = await fetch(`${url}/threads/main/events`, { headers: { ...headers, ...(after !== null ? { 'last-event-id': String(after) } : {}) }, signal: controller.signal })
    const out: ThreadEvent[] = []
    let buffer = ''
    const decoder = new TextDecoder()
    try {
      for await (const chunk of res.body!) {
        buffer += decoder.decode(chunk)
        let i
        while ((i = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, i)
          buffer = buffer.slice(i + 2)
          const data = block.split('\n').find((l) => l.startsWith('data: '))
          if (data) out.push(JSON.parse(data.slice(6)) as ThreadEvent)
        }
        if (stopWhen(out)) break
      }
    } finally {
      controller.abort()
    }
    return out
  }

  await fetch(`${url}/threads/main/messages`, { method: 'POST', headers, body: JSON.stringify({ text: 'Tell me about volcanoes and islands' }) })
  const firstPart = await read(null, (e) => e.filter((x) => x.type === 'token').length >= 10)
  const cut = firstPart.at(-1)!.seq
  const rest = await read(cut, (e) => e.some((x) => x.type === 'message' && x.data.role === 'assistant'))
  const all = [...firstPart, ...rest]
  const seqs = all.map((e) => e.seq)
  t.same(seqs, [...new Set(seqs)], 'no repeated event')
  t.same(seqs, [...seqs].sort((x, y) => x - y), 'in order')
  const tokens = all.filter((e) => e.type === 'token').map((e) => e.data.token).join('')
  const reply = all.find((e) => e.type === 'message' && e.data.role === 'assistant')!.data.text
  t.equal(tokens, reply, 'the tokens before and after the reconnect add up to the reply: no gap')
  t.ok(rest[0]!.seq > cut, 'the resumed stream starts after Last-Event-ID')
})

test('shutting down ends open event streams at once instead of waiting out the shutdown timeout', async (t) => {
  const n = await nats(t)
  const base = await simulator(t)
  const service = await startServiceProcess({ name: 'openai-service', entry: ENTRY, env: { NATS_URL: n.url, OPENAI_BASE_URL: base, OPENAI_API_KEY: 'sim', MODEL_BACKEND: 'simulator', JWT_SECRET: SECRET, SHUTDOWN_TIMEOUT_MS: '20000' } })
  t.teardown(() => service.stop())
  const res = await fetch(`${service.url}/threads/main/events`, { headers })
  t.equal(res.status, 200)
  const ended = (async () => { for await (const _chunk of res.body!) { /* read until the server ends it */ } })()
  const started = Date.now()
  await service.proc.stop(20_000)
  t.ok(Date.now() - started < 5_000, `the process exited in ${Date.now() - started} ms, not after SHUTDOWN_TIMEOUT_MS`)
  await ended.catch(() => {})
})
