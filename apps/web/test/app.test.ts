import t from 'tap'
import type { Page } from 'playwright-core'
import { WsClient } from '@skein/stack'
import { ROOM_LIMIT } from '../src/app/state.js'
import { NARROW, WIDE, connected, screenshot, signIn, startApp, storedAnswer, token, words } from './helper.js'

// The built web app in headless chromium against the real stack on the simulator (100 tokens a second), the
// browser reaching the funnel through a TCP proxy that the last test cuts for real.
// One socket sends hundreds of messages in the long-room test: its frame rate limit is raised.
const app = await startApp(t, { SIM_TOKENS_PER_SECOND: '100', WS_RATE_PER_S: '1000', WS_RATE_BURST: '1000' })

const displayText = async (page: Page): Promise<string> => (await page.locator('.display-text').textContent()) ?? ''
const displayStatus = async (page: Page): Promise<string | null> => await page.locator('.display').getAttribute('data-status')

async function createRoom (page: Page, room: string): Promise<void> {
  await page.getByText('Create a room').click()
  await page.getByLabel('Name (optional)').fill(room)
  await page.getByRole('button', { name: 'Create room' }).click()
  await page.locator(`.room[data-room="${room}"] .members`, { hasText: 'In this room' }).waitFor()
}

async function ask (page: Page, question: string): Promise<void> {
  await page.getByLabel('Message', { exact: true }).fill(question)
  await page.getByRole('button', { name: 'Ask the assistant' }).click()
}

/** The display's text, sampled while the answer streams, until it reads done (or another final status). */
async function samples (page: Page): Promise<string[]> {
  const seen: string[] = []
  while (['waiting', 'streaming'].includes((await displayStatus(page)) ?? '')) {
    seen.push(await displayText(page))
    await page.waitForTimeout(40)
  }
  return seen
}

t.test('sign in, create a room, ask: the answer streams in word by word; Escape stops a long one', async (t) => {
  const page = await signIn(app, 'alice')
  t.match(await page.locator('.connection').textContent(), /Connected/, 'the header says connected')
  await createRoom(page, 'garden')
  t.equal(await page.locator('.room-button.current').textContent(), 'garden', 'the new room is the current one')

  // 150 words at 100 tokens a second: a second and a half of streaming, long enough to be sampled on a busy machine.
  const question = 'Tell me about roses and garden soil in 150 words'
  await ask(page, question)
  // While it streams: the text grows word by word, and nothing above it or in the room below it moves.
  const where = async (): Promise<number[]> => await page.evaluate(() => ['.display-text', '.display-status', '.room .log'].map((s) => Math.round(document.querySelector(s)!.getBoundingClientRect().top)))
  const counts: number[] = []
  const places: string[] = []
  while (['waiting', 'streaming'].includes((await displayStatus(page)) ?? '')) {
    counts.push(words(await displayText(page)))
    places.push(String(await where()))
    await page.waitForTimeout(40)
  }
  places.push(String(await where()))
  const partial = [...new Set(counts.filter((n) => n > 0 && n < 150))]
  t.ok(partial.length >= 3, `the text grew in steps while streaming (${partial.length} partial lengths seen)`)
  t.same([...new Set(places)], [places[0]], `the text, the status line and the room's log kept their places from the first word to the last (${places[0]})`)
  t.equal(await displayStatus(page), 'done')
  const text = await displayText(page)
  t.match(text, /^\[simulated\]/, 'the simulator answered')
  t.equal(words(text), 150, 'the whole answer: 150 words')
  t.equal(text, (await storedAnswer(app, 'garden', question)).text, 'exactly the answer the server stored')
  t.match(await page.locator('.display-status').textContent(), /Done · skein-sim-1 · 150 tokens/)
  t.equal(await page.locator('.log .msg.assistant .text').last().textContent(), text, 'the room log shows the answer too')
  t.equal(await page.locator('.log .msg.mine .text').last().textContent(), question, 'and the question, confirmed')
  t.equal(await page.locator('.log .msg.mine .note').count(), 0, 'nothing left unconfirmed')

  // Keyboard only: Enter asks, Escape stops.
  await page.getByLabel('Message', { exact: true }).fill('Tell me everything about compost in 2000 words')
  await page.keyboard.press('Enter')
  await page.waitForFunction(() => (document.querySelector('.display-text')?.textContent ?? '').split(/\s+/).length > 30)
  await page.keyboard.press('Escape')
  await page.locator('.display[data-status="stopped"]').waitFor()
  const stopped = words(await displayText(page))
  t.ok(stopped > 30 && stopped < 2000, `the answer stopped early (${stopped} words)`)
  t.match(await page.locator('.log .msg.assistant .author').last().textContent(), /stopped/, 'the log marks it stopped')
  await screenshot(page, 'streamed-answer')
  await page.context().close()
})

t.test('two people in one room see each other\'s messages and typing (one of them on a narrow screen)', async (t) => {
  const alice = await signIn(app, 'alice')
  const bob = await signIn(app, 'bob', NARROW)
  await createRoom(alice, 'harbour')
  await bob.getByLabel('Join a room').fill('harbour')
  await bob.getByRole('button', { name: 'Join', exact: true }).click()
  await bob.locator('.room[data-room="harbour"]').waitFor()
  for (const page of [alice, bob]) await page.locator('.room .members', { hasText: 'In this room: alice, bob' }).waitFor()
  t.pass('both see both in the room')
  t.match(await alice.locator('.online').textContent(), /alice, bob/, 'and online')

  await alice.getByLabel('Message', { exact: true }).pressSequentially('hello bo', { delay: 20 })
  await bob.locator('.typing', { hasText: 'alice is typing…' }).waitFor()
  t.pass('bob sees alice typing')
  t.equal((await alice.locator('.typing').textContent())?.trim(), '', 'alice does not see herself typing')
  await alice.getByLabel('Message', { exact: true }).pressSequentially('b')
  await alice.getByRole('button', { name: 'Send to the room' }).click()
  await bob.locator('.log .msg:not(.mine) .text', { hasText: 'hello bob' }).waitFor()
  t.pass('bob gets alice\'s message')
  await bob.locator('.typing', { hasText: 'alice is typing' }).waitFor({ state: 'detached' }).catch(() => {})
  t.equal((await bob.locator('.typing').textContent())?.trim(), '', 'her message ends her typing')

  await bob.getByLabel('Message', { exact: true }).pressSequentially('hi alice', { delay: 20 })
  await alice.locator('.typing', { hasText: 'bob is typing…' }).waitFor()
  await bob.getByRole('button', { name: 'Send to the room' }).click()
  await alice.locator('.log .msg:not(.mine) .text', { hasText: 'hi alice' }).waitFor()
  t.pass('alice sees bob typing, then his message')
  const aliceLog = await alice.locator('.log .msg .text').allTextContents()
  const bobLog = await bob.locator('.log .msg .text').allTextContents()
  t.same(aliceLog, ['hello bob', 'hi alice'], 'alice\'s log, in order, each once')
  t.same(bobLog, aliceLog, 'bob\'s log is the same')

  const overflow = await bob.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
  t.ok(overflow <= 0, `nothing sticks out sideways on a ${NARROW.width}px screen (${overflow}px)`)
  await screenshot(alice, 'room-alice')
  await screenshot(bob, 'room-bob-narrow')
  await alice.context().close()
  await bob.context().close()
})

t.test('a task shows its tree live to completion: the task, its steps, their statuses; any node opens', async (t) => {
  const page = await signIn(app, 'carol')
  await page.getByLabel('Give the assistant a task').fill('1. Research owls\n2. Research hawks\n3. Compare the results of the two')
  await page.getByRole('button', { name: 'Start task' }).click()
  const task = page.locator('.tree .node[data-kind="task"]').first()
  await task.waitFor()
  const seen = new Set<string>()
  const steps = task.locator('.node[data-kind="step"]')
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline) {
    seen.add((await task.getAttribute('data-status')) ?? '')
    for (const s of await steps.all()) seen.add(`step:${(await s.getAttribute('data-status')) ?? ''}`)
    if (await task.getAttribute('data-status') === 'done') break
    await page.waitForTimeout(50)
  }
  t.equal(await task.getAttribute('data-status'), 'done', 'the task is done')
  t.equal(await steps.count(), 3, 'with its three steps')
  t.same(await steps.evaluateAll((els) => els.map((e) => e.getAttribute('data-status'))), ['done', 'done', 'done'], 'each done')
  t.ok(seen.has('planning') || seen.has('running'), `it was seen under way first (${[...seen].join(', ')})`)
  t.ok(seen.has('step:running') || seen.has('step:planning'), 'and its steps running')
  await page.locator('.display[data-kind="thread"][data-status="done"]').waitFor()
  t.match(await page.locator('.display-status').textContent(), /· done/, 'the display follows the task it started')
  t.match(await displayText(page), /\[simulated\]/, 'and shows what the task wrote')
  t.ok(await page.locator('.log .msg.report').count() >= 1, 'its reports reach the main room')

  await steps.first().locator('.node-title').click()
  await page.locator('.display-title', { hasText: 'Research owls' }).waitFor()
  await page.waitForFunction(() => /assistant/.test(document.querySelector('.display-text')?.textContent ?? ''))
  t.pass('opening a step shows its messages')

  // A second task, cancelled from the tree while it runs: it and everything under it end cancelled.
  await page.getByLabel('Give the assistant a task').fill('Write a history of rivers and canals in 3000 words')
  await page.getByRole('button', { name: 'Start task' }).click()
  const second = page.locator('.tree .node[data-kind="task"]').first()
  await second.locator('.node-title', { hasText: 'Write a history of rivers' }).waitFor()
  await second.getByRole('button', { name: /^Cancel: Write a history of rivers/ }).click()
  await page.locator('.tree .node[data-kind="task"][data-status="cancelled"]').first().waitFor()
  t.same(await second.locator('.node').evaluateAll((els) => els.map((e) => e.getAttribute('data-status')).filter((s) => s !== 'cancelled')), [], 'the task is cancelled, and so is anything it had started')
  t.equal(await second.getByRole('button', { name: /^Cancel/ }).count(), 0, 'nothing left to cancel')
  await screenshot(page, 'task-tree')
  await page.context().close()
})

t.test('an image response fills the display\'s width, the text above it and the audio between, wide and narrow', async (t) => {
  for (const [name, viewport] of [['wide', WIDE], ['narrow', NARROW]] as const) {
    const page = await signIn(app, `dana-${name}`, viewport)
    await page.getByLabel('Read the answer aloud').check()
    await page.getByLabel('Draw a picture of it').check()
    await ask(page, `A lighthouse at dusk over a calm sea, seen ${name}`)
    await page.locator('.display[data-status="done"]').waitFor()
    await page.locator('.display-image img').waitFor()
    await page.waitForFunction(() => { const img = document.querySelector<HTMLImageElement>('.display-image img'); return !!img && img.complete && img.naturalWidth > 0 })
    await page.locator('.display-audio audio').waitFor()
    const box = await page.evaluate(() => {
      const rect = (sel: string): DOMRect => document.querySelector(sel)!.getBoundingClientRect()
      const display = document.querySelector('.display')!
      const style = getComputedStyle(display)
      const inner = display.getBoundingClientRect().width - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - parseFloat(style.borderLeftWidth) - parseFloat(style.borderRightWidth)
      const img = document.querySelector<HTMLImageElement>('.display-image img')!
      return {
        inner, display: display.getBoundingClientRect().width, column: document.querySelector('.main-column')!.getBoundingClientRect().width,
        text: rect('.display-text'), audio: rect('.display-audio'), image: rect('.display-image img'), natural: img.naturalWidth
      }
    })
    t.ok(Math.abs(box.display - box.column) < 1, `${name}: the display takes its column's full width (${box.display}px)`)
    t.ok(Math.abs(box.image.width - box.inner) < 1, `${name}: the picture fills the display's width (${box.image.width} of ${box.inner}px)`)
    t.ok(box.text.bottom <= box.audio.top && box.audio.bottom <= box.image.top, `${name}: text, then audio, then the picture`)
    t.ok(box.text.height > 20, `${name}: with the answer's text`)
    t.equal(box.natural, 512, `${name}: a real PNG from the simulator`)
    await screenshot(page, `image-response-${name}`)
    await page.context().close()
  }
})

t.test('memory: documents go into a collection, a search finds what was said; a failed request says why', async (t) => {
  const page = await signIn(app, 'frank')
  await page.getByLabel('Add to the collection').fill('field-notes')
  await page.getByLabel('Documents (one per paragraph)').fill('Puffins nest in burrows on grassy cliff tops.\n\nGannets dive from thirty metres.')
  await page.getByRole('button', { name: 'Add to memory' }).click()
  await page.locator('.display[data-kind="documents"]').waitFor()
  t.match(await displayText(page), /^2 documents added to the collection “field-notes”/, 'the display says what was added')

  // The first test talked about roses and garden soil in the room "garden": memory search finds it.
  await page.getByLabel('Search memory').fill('roses garden soil')
  let found = ''
  for (let i = 0; i < 50 && !/roses/i.test(found); i++) {
    await page.getByRole('button', { name: 'Search', exact: true }).click()
    await page.locator('.display[data-kind="memory"]').waitFor()
    await page.waitForTimeout(100)
    found = await displayText(page)
  }
  t.match(found, /^1\. .*roses/is, 'the best hit is about roses')
  t.match(found, /score \d\.\d\d · garden/, 'with its score and the room it was said in')

  await page.getByLabel('Join a room').fill('no-such-room')
  await page.getByRole('button', { name: 'Join', exact: true }).click()
  const alert = page.getByRole('alert').filter({ hasText: 'no-such-room' })
  await alert.waitFor()
  t.match(await alert.textContent(), /Joining room no-such-room failed: .*\(FUNNEL_ROOM_NOT_FOUND\)/, 'the error names the request, the reason and the code')
  await alert.getByRole('button', { name: 'Dismiss this message' }).click()
  await alert.waitFor({ state: 'detached' })
  t.equal(await page.locator('.room-button.current').textContent(), 'main', 'and the app carries on where it was')
  await page.context().close()
})

t.test('a long room opens on its newest messages; earlier ones load a page at a time, up to the first', async (t) => {
  // 650 messages from another person (over the funnel's /ws, as any client sends them): more than two pages.
  const writer = await WsClient.connect(app.funnelUrl, await token(app, 'chronicler'))
  t.teardown(() => writer.close())
  await writer.request('create_room', { room: 'archive' })
  await writer.request('join_room', { room: 'archive' })
  for (let i = 0; i < 650; i += 50) await Promise.all(Array.from({ length: 50 }, async (_x, k) => await writer.request('message', { room: 'archive', text: `entry ${i + k}` })))

  const page = await signIn(app, 'reader')
  const asked: URL[] = []
  page.on('request', (r) => { const u = new URL(r.url()); if (u.pathname === '/threads/archive/messages') asked.push(u) })
  await page.getByLabel('Join a room').fill('archive')
  await page.getByRole('button', { name: 'Join', exact: true }).click()
  const log = page.locator('.room[data-room="archive"] .log')
  const entry = (n: number): ReturnType<Page['locator']> => log.locator('.msg .text', { hasText: new RegExp(`^entry ${n}$`) })
  await entry(649).waitFor()
  const shown = async (): Promise<string[]> => await log.locator('.msg .text').allTextContents()
  const first = await shown()
  t.equal(first.length, ROOM_LIMIT, `the newest page only (${ROOM_LIMIT} of 650)`)
  t.equal(first[0], `entry ${650 - ROOM_LIMIT}`, 'down to the oldest of the page, in order')
  t.same(asked.map((u) => u.search), [`?limit=${ROOM_LIMIT}`], 'the app asked for that page, not the whole room')
  const earlier = page.getByRole('button', { name: 'Load earlier messages' })
  // New messages arrive while the earlier page is on its way: none of the messages shown may be lost to make room.
  let held = false
  await page.route(/\/threads\/archive\/messages\?.*before=/, async (route) => {
    if (!held) {
      held = true
      for (let i = 650; i < 655; i++) await writer.request('message', { room: 'archive', text: `entry ${i}` })
      await entry(654).waitFor()
    }
    await route.continue()
  })
  await earlier.click()
  await entry(650 - 2 * ROOM_LIMIT).waitFor()
  t.equal((await shown()).length, 2 * ROOM_LIMIT + 5, 'a second page above the first, and the five that came meanwhile')
  await earlier.click()
  await entry(0).waitFor()
  const all = await shown()
  t.same(all, Array.from({ length: 655 }, (_x, i) => `entry ${i}`), 'then the rest: every message once, in order, no gap')
  t.equal(await earlier.count(), 0, 'nothing earlier remains: the button is gone')
  t.same(asked.map((u) => [u.searchParams.get('limit'), u.searchParams.has('before')]), [[`${ROOM_LIMIT}`, false], [`${ROOM_LIMIT}`, true], [`${ROOM_LIMIT}`, true]], 'each page asked for with limit, earlier ones with before')
  await writer.request('message', { room: 'archive', text: 'entry 655' })
  await entry(655).waitFor()
  t.equal((await shown()).length, 656, 'a new message is added, and what was loaded stays')

  // Leaving while an earlier page is on its way: the page is dropped, and a later join starts afresh.
  const join = async (): Promise<void> => {
    await page.getByLabel('Join a room').fill('archive')
    await page.getByRole('button', { name: 'Join', exact: true }).click()
    await entry(655).waitFor()
  }
  const joined = page.locator('.room-button', { hasText: /^archive$/ })
  await page.getByRole('button', { name: 'Leave archive' }).click()
  await joined.waitFor({ state: 'detached' })
  await join()
  await page.unroute(/\/threads\/archive\/messages\?.*before=/)
  await page.route(/\/threads\/archive\/messages\?.*before=/, async (route) => {
    await page.getByRole('button', { name: 'Leave archive' }).click()
    await joined.waitFor({ state: 'detached' })
    await route.continue()
  })
  await earlier.click()
  await page.waitForResponse(/\/threads\/archive\/messages\?.*before=/)
  await page.waitForTimeout(300)
  t.equal(await joined.count(), 0, 'the room stays left when its page arrives')
  await join()
  t.equal((await shown()).length, ROOM_LIMIT, 'joined again: the newest page only, nothing of the page that came late')
  await page.context().close()
})

t.test('losing the network mid-answer, then the page reloading mid-answer: each answer ends complete, once', async (t) => {
  const page = await signIn(app, 'erin')
  await createRoom(page, 'lighthouse')
  const question = 'Tell me about lighthouses and ships in 800 words'
  await ask(page, question)
  await page.waitForFunction(() => (document.querySelector('.display-text')?.textContent ?? '').split(/\s+/).length >= 60)
  const accepted = app.proxy.accepted
  app.proxy.cut()
  await page.locator('.connection:not([data-state="connected"])').waitFor()
  const during = await page.locator('.connection').textContent()
  const atCut = words(await displayText(page))
  await page.waitForTimeout(1_000)
  await screenshot(page, 'network-cut-during')
  app.proxy.restore()
  await connected(page)
  const resumed = await samples(page)
  t.ok(app.proxy.refused >= 1, `the browser tried to reconnect during the cut and was refused (${app.proxy.refused}x)`)
  t.ok(app.proxy.accepted > accepted, 'then reconnected through the proxy')
  t.match(during, /Reconnecting|Offline/, `the header said so during the cut (${during})`)
  await page.locator('.display[data-status="done"]').waitFor({ timeout: 60_000 })
  const stored = await storedAnswer(app, 'lighthouse', question)
  const text = await displayText(page)
  t.ok(atCut < 800, `the cut came mid-answer (${atCut} words in)`)
  t.ok(resumed.length > 0 && words(resumed[0]!) < 800, `it was still streaming after the reconnection (${words(resumed[0] ?? '')} words)`)
  t.ok(resumed.every((x) => stored.text.startsWith(x)), 'while the rest streamed in, the text was always the start of the answer: no word missing or repeated at the seam')
  t.equal(words(text), 800, 'the answer is whole: 800 words')
  t.equal(text, stored.text, 'exactly the text the server stored: nothing missing, nothing twice')
  t.equal(await page.locator(`.log [data-message-id="${stored.id}"]`).count(), 1, 'one answer in the log')
  t.equal(await page.locator(`.log [data-message-id="${stored.id}"] .text`).textContent(), stored.text, 'with the same text')
  t.equal(await page.locator('.log .msg.mine').count(), 1, 'the question once')
  await screenshot(page, 'network-cut-after')

  const again = 'Tell me about tides and harbours in 300 words'
  await ask(page, again)
  await page.waitForFunction(() => (document.querySelector('.display-text')?.textContent ?? '').split(/\s+/).length >= 40)
  await page.reload()
  await connected(page)
  const afterReload = await samples(page)
  await page.locator('.display[data-status="done"]').waitFor({ timeout: 60_000 })
  const storedAgain = await storedAnswer(app, 'lighthouse', again)
  t.ok(afterReload.length > 0 && afterReload.every((x) => storedAgain.text.startsWith(x)), `after the reload it carried on streaming from where it was (${words(afterReload[0] ?? '')} words), without a gap`)
  t.equal(await page.locator('.room-button.current').textContent(), 'lighthouse', 'after the reload the page is back in its room')
  t.equal(await displayText(page), storedAgain.text, 'and the answer under way ended complete in the display')
  t.equal(words(storedAgain.text), 300)
  t.equal(await page.locator('.log .msg.assistant').count(), 2, 'two answers in the log, each once')
  t.same(await page.locator('.log .msg.mine .text').allTextContents(), [question, again], 'and the two questions, each once')
  await page.context().close()
})
