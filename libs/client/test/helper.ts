import { createHmac } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import { WebSocket } from 'ws'
import { CuttableProxy, freePort, freePorts, startServiceProcess, startStack, type RunningStack, type ServiceProcess } from '@skein/stack'
import { SkeinClient, type SkeinClientOptions, type WebSocketConstructor } from '../src/index.js'

// Services a test stopped and started again (stopOpenAIService): stopped with the stack.
const restarted = new Set<ServiceProcess>()

/** The whole local stack (as npm start runs it, without the web app) on free ports, stopped in teardown. */
export async function stack (t: Test): Promise<RunningStack> {
  const running = await startStack({
    dataDir: mkdtempSync(join(tmpdir(), 'skein-client-')),
    ports: await freePorts(),
    natsUrl: `nats://127.0.0.1:${await freePort()}`,
    web: false,
    env: { LOG_LEVEL: 'warn', SIM_TOKENS_PER_SECOND: '100' }
  })
  t.teardown(async () => {
    for (const s of restarted) await s.stop()
    await running.stop()
  })
  return running
}

/**
 * Stops the stack's openai-service (the threads engine: a deploy, a crash) and gives back how to start it again,
 * on its port and with the environment the stack gave it (the simulator as model backend).
 */
export async function stopOpenAIService (running: RunningStack): Promise<() => Promise<ServiceProcess>> {
  const part = running.parts.find((p) => p.name === 'openai-service')
  const nats = running.parts.find((p) => p.name === 'nats')
  if (!part || !nats) throw new Error('the stack runs no openai-service (or no NATS)')
  await running.services.get('openai-service')!.stop()
  return async () => {
    const s = await startServiceProcess({
      name: 'openai-service',
      entry: 'services/openai-service/dist/server.js',
      port: Number(new URL(part.url).port),
      env: {
        NATS_URL: nats.url,
        JWT_SECRET: running.jwtSecret,
        AUTH_DEV_LOGIN: 'true',
        OPENAI_BASE_URL: running.modelBackend.url,
        OPENAI_API_KEY: 'simulator',
        MODEL_BACKEND: 'simulator'
      }
    })
    restarted.add(s)
    return s
  }
}

/** An HS256 Skein token, signed as the services sign theirs (for a token that expires soon). */
export function signToken (secret: string, user: string, ttlSeconds: number): string {
  const b64 = (s: string): string => Buffer.from(s).toString('base64url')
  const iat = Math.floor(Date.now() / 1000)
  const input = `${b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64(JSON.stringify({ sub: user, iat, exp: iat + ttlSeconds }))}`
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`
}

/** A signed-in client (dev login) of `baseURL`, with the ws package as its WebSocket; closed in teardown. */
export async function signedIn (t: Test, baseURL: string, user: string, opts: Partial<SkeinClientOptions> = {}): Promise<SkeinClient> {
  const { token } = await new SkeinClient({ baseURL }).auth.token(user)
  const client = new SkeinClient({ baseURL, token, WebSocket: WebSocket as unknown as WebSocketConstructor, ...opts })
  t.teardown(() => client.realtime.close())
  return client
}

/** A cuttable TCP proxy in front of the funnel (see @skein/stack), closed in teardown. */
export async function cuttableProxy (t: Test, targetUrl: string): Promise<CuttableProxy> {
  const proxy = await CuttableProxy.start(targetUrl)
  t.teardown(() => proxy.close())
  return proxy
}

/** Waits until `cond` holds, polling. */
export async function until (cond: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
