import { test } from 'tap'
import { fullSize, roomSizes, roomUsers, soakSettings } from '../../src/soak/settings.js'

test('without settings the soak is the issue\'s: 2,000 connections, 20 rooms, 10 minutes, in minute windows', async (t) => {
  const s = soakSettings({})
  t.match(s, { minutes: 10, warmupS: 60, connections: 2000, rooms: 20, messageEveryMs: 1500, llmEveryS: 30, taskEveryS: 30, answerWords: 60, simTokensPerS: 50, rssLimit: 1.2, drainS: 120, windowMs: 60_000 })
  t.equal(fullSize(s), true)
})

test('a short try from the environment: its windows are a third of it, and it is not the full size', async (t) => {
  const s = soakSettings({ SOAK_MINUTES: '1', SOAK_CONNECTIONS: ' 200 ', SOAK_ROOMS: '4', SOAK_WARMUP_S: '0', SIM_TOKENS_PER_SECOND: '0', SOAK_RSS_LIMIT: '' })
  t.match(s, { minutes: 1, connections: 200, rooms: 4, warmupS: 0, simTokensPerS: 0, rssLimit: 1.2, windowMs: 20_000 })
  t.equal(fullSize(s), false)
  t.equal(fullSize(soakSettings({ SOAK_MINUTES: '15' })), true, 'longer than the issue asks is still full size')
})

test('a bad value stops the soak with a message naming the variable', async (t) => {
  t.throws(() => soakSettings({ SOAK_MINUTES: 'ten' }), /SOAK_MINUTES must be a positive number; it is "ten"/)
  t.throws(() => soakSettings({ SOAK_CONNECTIONS: '2000.5' }), /SOAK_CONNECTIONS must be a positive integer/)
  t.throws(() => soakSettings({ SOAK_ROOMS: '0' }), /SOAK_ROOMS must be a positive integer/)
  t.throws(() => soakSettings({ SOAK_MESSAGE_EVERY_MS: '-5' }), /SOAK_MESSAGE_EVERY_MS/)
  t.throws(() => soakSettings({ SOAK_CONNECTIONS: '30', SOAK_ROOMS: '20' }), /SOAK_CONNECTIONS \(30\) must be at least twice SOAK_ROOMS \(20\)/)
  t.throws(() => soakSettings({ SOAK_RSS_LIMIT: '0.9' }), /SOAK_RSS_LIMIT must be at least 1/)
})

test('connections spread evenly over the rooms, each member a distinct valid user name', async (t) => {
  t.same(roomSizes(2000, 20), Array(20).fill(100))
  t.same(roomSizes(10, 4), [3, 3, 2, 2])
  const users = roomUsers(7, 100)
  t.equal(users.length, 100)
  t.equal(new Set(users).size, 100)
  t.equal(users[0], 'soak-07-0000')
  t.ok(users.every((u) => /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/.test(u)))
  t.notOk(roomUsers(1, 100).some((u) => users.includes(u)), 'no user is in two rooms')
})
