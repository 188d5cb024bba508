import { test } from 'tap'
import { jetstream, jetstreamManager } from '@nats-io/jetstream'
import { connect } from '@nats-io/transport-node'
import Fastify from 'fastify'
import { WORK_STREAM } from '@skein/bus'
import type { WorkItem } from '@skein/schemas'
import { WorkQueue } from '../src/threads/work-queue.js'
import { nats } from './helper.js'

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

// An item whose run outlives its ack wait without a heartbeat getting through (as while NATS restarts) is
// redelivered, and here to the very instance still running it, to another of its workers.
test('an item redelivered to the instance still running it is not run twice, and is settled as its run was', async (t) => {
  const server = await nats(t)
  const nc = await connect({ servers: server.url })
  t.teardown(() => nc.close())
  // Heartbeats every 500 ms at the soonest: with a 200 ms ack wait, every run outlives it.
  const queue = new WorkQueue(jetstream(nc), await jetstreamManager(nc), { concurrency: 2, ackWaitMs: 200, maxDeliver: 5, replicas: 1, retryMs: 1_000 }, Fastify().log)
  await queue.setup()
  const runs: Array<{ item: string, attempt: number }> = []
  let failFirst = true
  queue.start({
    handle: async (item, attempt) => {
      runs.push({ item: item.thread, attempt })
      await sleep(1_500)
      if (item.thread === 'flaky' && failFirst) {
        failFirst = false
        throw new Error('the model backend answered 500')
      }
    },
    giveUp: async () => {},
    isPermanent: () => false
  })
  t.teardown(() => queue.stop())

  await queue.enqueue({ kind: 'step', thread: 'steady' } satisfies WorkItem, 'steady')
  await sleep(4_000)
  t.same(runs.filter((r) => r.item === 'steady'), [{ item: 'steady', attempt: 1 }], 'run once, though delivered again while it ran')
  const left = await (await jetstreamManager(nc)).streams.info(WORK_STREAM)
  t.equal(left.state.messages, 0, 'and acked: the queue is empty')

  await queue.enqueue({ kind: 'step', thread: 'flaky' } satisfies WorkItem, 'flaky')
  const deadline = Date.now() + 15_000
  while (runs.filter((r) => r.item === 'flaky').length < 2 && Date.now() < deadline) await sleep(100)
  await sleep(2_000)
  const flaky = runs.filter((r) => r.item === 'flaky')
  t.equal(flaky.length, 2, 'a run that failed is retried once more, not dropped by the delivery that waited for it')
  t.ok(flaky[1]!.attempt > flaky[0]!.attempt, 'the retry is a later delivery')
})
