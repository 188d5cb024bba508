import { mkdirSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import { chromium, type Browser, type Page } from 'playwright-core'
import { CuttableProxy, ManagedProcess, freePort, freePorts, httpAnswers, repoRoot, startStack, waitFor, type RunningStack } from '@skein/stack'

export const RESULTS = join(repoRoot, 'apps', 'web', 'test-results')

export interface RunningApp {
  /** The web app, as the browser opens it. */
  url: string
  /** The funnel itself (the test's own checks go straight to it, not through the proxy). */
  funnelUrl: string
  proxy: CuttableProxy
  stack: RunningStack
  browser: Browser
}

/**
 * The whole stack on the simulator (free ports), the web app's production server told that the funnel is at
 * a cuttable proxy in front of the real one, and headless Debian chromium. All stopped in teardown.
 */
export async function startApp (t: Test, env: Record<string, string> = {}): Promise<RunningApp> {
  const ports = await freePorts()
  const stack = await startStack({
    dataDir: mkdtempSync(join(tmpdir(), 'skein-web-')),
    ports,
    natsUrl: `nats://127.0.0.1:${await freePort()}`,
    web: false,
    env: { LOG_LEVEL: 'warn', ...env }
  })
  t.teardown(() => stack.stop())
  const proxy = await CuttableProxy.start(stack.funnelUrl)
  t.teardown(() => proxy.close())
  const web = new ManagedProcess({
    name: 'web',
    command: process.execPath,
    args: [join(repoRoot, 'apps', 'web', 'server.mjs')],
    env: { HOST: '127.0.0.1', PORT: String(ports.web), FUNNEL_URL: proxy.url }
  })
  t.teardown(() => web.stop())
  const url = `http://127.0.0.1:${ports.web}`
  await waitFor(() => httpAnswers(url), { what: 'the web app', timeoutMs: 10_000, process: web })
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run']
  })
  t.teardown(() => browser.close())
  mkdirSync(RESULTS, { recursive: true })
  return { url, funnelUrl: stack.funnelUrl, proxy, stack, browser }
}

export const WIDE = { width: 1280, height: 900 }
export const NARROW = { width: 390, height: 844 }

/** A new browser context (its own storage: another person) signed in as `user`, connected. */
export async function signIn (app: RunningApp, user: string, viewport = WIDE): Promise<Page> {
  const context = await app.browser.newContext({ viewport })
  const page = await context.newPage()
  page.setDefaultTimeout(30_000)
  await page.goto(app.url)
  await page.getByLabel('Your name').fill(user)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await connected(page)
  await page.locator('.room[data-room="main"] .members', { hasText: user }).waitFor()
  return page
}

/** Waits until the header says the app is connected. */
export async function connected (page: Page): Promise<void> {
  await page.locator('.connection[data-state="connected"]').waitFor()
}

export async function screenshot (page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(RESULTS, `${name}.png`), fullPage: true })
}

/** A token of the funnel's dev login, for the test's own checks. */
export async function token (app: RunningApp, user: string): Promise<string> {
  const res = await fetch(`${app.funnelUrl}/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user }) })
  return ((await res.json()) as { token: string }).token
}

/** What the server stored as the answer to a question (by the question's text), from the room's messages. */
export async function storedAnswer (app: RunningApp, room: string, question: string): Promise<{ id: string, text: string }> {
  const headers = { authorization: `Bearer ${await token(app, 'checker')}` }
  const { messages } = await (await fetch(`${app.funnelUrl}/threads/${room}/messages`, { headers })).json() as { messages: Array<{ id: string, role: string, text: string, inReplyTo?: string }> }
  const asked = messages.find((m) => m.role === 'user' && m.text === question)
  const answer = messages.find((m) => m.role === 'assistant' && asked && m.inReplyTo === asked.id)
  if (!answer) throw new Error(`no stored answer to "${question}" in ${room}`)
  return { id: answer.id, text: answer.text }
}

export const words = (text: string): number => text.trim().split(/\s+/).filter(Boolean).length
