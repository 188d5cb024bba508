import { test } from 'tap'
import { every, llmPrompt, taskText } from '../../src/soak/load.js'

test('a schedule calls on absolute times until the stop, late calls not pushing the rest back', async (t) => {
  const start = performance.now()
  const calls: Array<[number, number]> = []
  await every(50, 20, start, start + 300, (k) => {
    calls.push([k, performance.now() - start])
    if (k === 1) { const until = performance.now() + 70; while (performance.now() < until); } // a slow call
  })
  // Scheduled from the previous call instead, the slow one would push the rest back and leave room for 5.
  t.same(calls.map(([k]) => k), [0, 1, 2, 3, 4, 5], 'at 20, 70, 120, 170, 220, 270 ms; 320 is past the stop')
  for (const [k, at] of calls) t.ok(at >= 20 + k * 50, `call ${k} not early (${at.toFixed(1)} ms)`)
})

test('a schedule whose first time is past the stop calls nothing', async (t) => {
  const start = performance.now()
  let n = 0
  await every(10, 100, start, start + 50, () => { n++ })
  t.equal(n, 0)
})

test('prompts ask for the length the soak wants and call no tool; tasks are two-item lists', async (t) => {
  const p = llmPrompt('soak-x-03', 5, 60)
  t.match(p, /in 60 words\.$/)
  t.match(p, /soak-x-03/)
  for (let k = 0; k < 40; k++) {
    const task = taskText(k)
    // The simulator calls a tool when the text holds every word of its name (search_memory, spawn_subtask).
    t.notMatch(`${llmPrompt('r', k, 60)} ${task}`, /search|memory|spawn|subtask/i)
    t.equal(task.split('\n').filter((l) => /^\d\. /.test(l)).length, 2)
  }
  t.not(taskText(0), taskText(1))
})
