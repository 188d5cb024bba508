import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'tap'
import { NatsServer, freePorts, isListening, natsServerVersion, repoRoot } from '../src/index.js'

const SECRET = 'cli-test-secret-0123456789abcdef0123456789'

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Every process below `pid` right now, read from /proc (children, grandchildren…). */
function descendants (pid: number): number[] {
  const parentOf = new Map<number, number>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold spaces, so read after the last ")".
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]))
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = []
  const queue = [pid]
  while (queue.length) {
    const p = queue.shift()!
    for (const [child, parent] of parentOf) {
      if (parent === p) {
        out.push(child)
        queue.push(child)
      }
    }
  }
  return out
}

/** HS256 token for `user`, signed with `secret`, as an identity provider would make it. */
async function token (secret: string, user: string): Promise<string> {
  const { createHmac } = await import('node:crypto')
  const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url')
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: user, iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 600 })}`
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`
}

test('npm start\'s entry: the user\'s NATS, AUTH_DEV_LOGIN=false and JWT_SECRET are honoured; Ctrl-C stops all it started and only that', async (t) => {
  const nats = await NatsServer.start({ dataDir: mkdtempSync(join(tmpdir(), 'skein-cli-nats-')) })
  t.teardown(() => nats.stop())
  const ports = await freePorts()
  const cli = spawn(process.execPath, [join(repoRoot, 'libs', 'stack', 'dist', 'cli.js'), 'start'], {
    cwd: repoRoot,
    env: {
      ...process.env,
      NODE_OPTIONS: '',
      FUNNEL_PORT: String(ports.funnel),
      OPENAI_SERVICE_PORT: String(ports.openai),
      CHROMA_SERVICE_PORT: String(ports.chroma),
      WEB_PORT: String(ports.web),
      CHROMA_PORT: String(ports.chromadb),
      SIMULATOR_PORT: String(ports.simulator),
      SKEIN_DATA_DIR: mkdtempSync(join(tmpdir(), 'skein-cli-')),
      NATS_URL: nats.url,
      AUTH_DEV_LOGIN: 'false',
      JWT_SECRET: SECRET,
      LOG_LEVEL: 'warn',
      OPENAI_API_KEY: '',
      OPENAI_BASE_URL: '',
      CHROMA_URL: ''
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  cli.stdout.on('data', (c: Buffer) => { out += c.toString() })
  cli.stderr.on('data', (c: Buffer) => { out += c.toString() })
  const exited = new Promise<number | null>((resolve) => cli.once('exit', (code) => resolve(code)))
  // A failed assertion must not leave the stack running: stop it as Ctrl-C would, then kill what is left.
  t.teardown(async () => {
    if (cli.exitCode !== null || cli.signalCode !== null) return
    const left = descendants(cli.pid!)
    cli.kill('SIGINT')
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 20_000).unref())])
    for (const pid of [cli.pid!, ...left]) if (alive(pid)) process.kill(pid, 'SIGKILL')
  })

  let timer: NodeJS.Timeout | undefined
  const ready = await Promise.race([
    new Promise<boolean>((resolve) => {
      const check = (): void => { if (out.includes('Press Ctrl-C')) resolve(true) }
      cli.stdout.on('data', check)
      check()
    }),
    exited.then(() => false),
    new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), 120_000) })
  ])
  clearTimeout(timer)
  t.ok(ready, 'the stack came up')
  if (!ready) {
    t.comment(out)
    return
  }

  const rows = out.split('\n').filter((l) => /^ {2}\S/.test(l))
  const row = (name: string): string => rows.find((l) => l.trimStart().startsWith(`${name} `)) ?? ''
  t.match(row('nats'), new RegExp(`${nats.url.replace(/\./g, '\\.')}\\s+already running`), 'the NATS given in NATS_URL is used, not started again')
  t.ok(out.includes(`note    nats-server ${natsServerVersion().join('.')} at ${nats.url} was already running`), 'and a note names its version: its own settings decide durability')
  for (const [name, port] of [['chromadb', ports.chromadb], ['model-simulator', ports.simulator], ['openai-service', ports.openai], ['chroma-service', ports.chroma], ['funnel', ports.funnel], ['web', ports.web]] as const) {
    t.match(row(name), new RegExp(`http://127\\.0\\.0\\.1:${port}\\s+started \\(pid \\d+\\)`), `${name} on its port, started here`)
  }
  t.match(row('model backend'), /SIMULATOR: offline model simulator, answers are simulated/, 'the table says the answers are simulated')
  const pids = [...out.matchAll(/started \(pid (\d+)\)/g)].map((m) => Number(m[1]))
  t.equal(pids.length, 6, 'six processes started')
  t.ok(pids.every(alive), 'and running')
  const tree = descendants(cli.pid!)
  t.ok(pids.every((p) => tree.includes(p)), 'all of them below the npm start process')

  const funnel = `http://127.0.0.1:${ports.funnel}`
  t.equal((await fetch(`${funnel}/health`)).status, 200, 'green health')
  const login = await fetch(`${funnel}/auth/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"user":"alice"}' })
  t.equal(login.status, 403, 'AUTH_DEV_LOGIN=false turns the dev login off')
  t.equal((await login.json() as { error: { code: string } }).error.code, 'AUTH_DEV_LOGIN_DISABLED')
  const models = await fetch(`${funnel}/v1/models`, { headers: { authorization: `Bearer ${await token(SECRET, 'alice')}` } })
  t.equal(models.status, 200, 'a token signed with the user\'s JWT_SECRET is accepted')
  const other = await fetch(`${funnel}/v1/models`, { headers: { authorization: `Bearer ${await token('another-secret-0123456789abcdef01234567', 'alice')}` } })
  t.equal(other.status, 401, 'and one signed with any other secret is not')

  cli.kill('SIGINT')
  const code = await exited
  t.equal(code, 0, 'Ctrl-C: a clean exit')
  t.match(out, /SIGINT: stopping everything started here[\s\S]*▸ stopped/)
  t.same(pids.filter(alive), [], 'every process in the table is gone')
  t.same(tree.filter(alive), [], 'and every process it started, at any depth')
  t.ok(await isListening(nats.port), 'the NATS it did not start still accepts connections')
})
