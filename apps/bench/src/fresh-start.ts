import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { homedir, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, freePorts, repoRoot } from '@skein/stack'
import { machine, progress, writeSection } from './report.js'

const FIVE_MINUTES_S = 300

/** Every process below `pid` now (children, grandchildren…), from /proc. */
function descendants (pid: number): number[] {
  const parentOf = new Map<number, number>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
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
    for (const [child, parent] of parentOf) if (parent === p) { out.push(child); queue.push(child) }
  }
  return out
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** The pnpm store `npm start` installs from, and how full it is before the run (a warm store makes installs fast). */
function pnpmStore (): { path: string, files: number } {
  const path = join(process.env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'pnpm', 'store', 'v10')
  if (!existsSync(join(path, 'files'))) return { path, files: 0 }
  return { path, files: readdirSync(join(path, 'files')).reduce((n, d) => n + readdirSync(join(path, 'files', d)).length, 0) }
}

/**
 * Issue 2's promise, measured: a fresh checkout (`git clone` of the committed HEAD into a temporary directory),
 * then `npm start` there — pnpm, dependencies, build, NATS, Chroma, the simulator, every service and the web
 * app — until the funnel's `/health` is 200. Then Ctrl-C (SIGINT to the process group, as a terminal sends it)
 * and a check that no process it started is left.
 */
export async function freshStart (): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'skein-fresh-'))
  const load = loadavg()[0] ?? 0
  try {
    const store = pnpmStore()
    progress(`fresh-start: cloning ${repoRoot} (committed HEAD) into ${dir}`)
    const cloneStarted = performance.now()
    execFileSync('git', ['clone', '--quiet', `file://${repoRoot}`, dir], { stdio: 'ignore' })
    const cloneS = (performance.now() - cloneStarted) / 1000
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: dir, encoding: 'utf8' }).trim()

    const ports = await freePorts()
    const natsPort = await freePort()
    // A machine without pnpm on its PATH (npm start installs it), ports of its own, no key, no NATS running at NATS_URL.
    const path = (process.env.PATH ?? '').split(':').filter((p) => !p.includes('.tools')).join(':')
    const env: Record<string, string> = {}
    for (const [k, v] of Object.entries(process.env)) {
      if (v !== undefined && !/^(OPENAI_|CHROMA_URL|JWT_SECRET|AUTH_DEV_LOGIN|SKEIN_|NODE_OPTIONS|npm_|PNPM_)/.test(k)) env[k] = v
    }
    Object.assign(env, {
      PATH: path,
      FUNNEL_PORT: String(ports.funnel),
      OPENAI_SERVICE_PORT: String(ports.openai),
      CHROMA_SERVICE_PORT: String(ports.chroma),
      WEB_PORT: String(ports.web),
      CHROMA_PORT: String(ports.chromadb),
      SIMULATOR_PORT: String(ports.simulator),
      NATS_URL: `nats://127.0.0.1:${natsPort}`,
      LOG_LEVEL: 'warn'
    })

    progress('fresh-start: npm start')
    const started = performance.now()
    const npm = spawn('npm', ['start'], { cwd: dir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    // In a process group of its own, npm start is not among the bench's children that die with it: if the bench
    // is stopped (Ctrl-C, a signal), the whole group goes too.
    const killGroup = (): void => { try { process.kill(-npm.pid!, 'SIGKILL') } catch { /* already gone */ } }
    process.once('exit', killGroup)
    let out = ''
    const phases: Array<{ at: number, step: string }> = []
    const read = (chunk: Buffer): void => {
      const text = chunk.toString()
      out += text
      // eslint-disable-next-line no-control-regex
      for (const line of text.replace(/\x1b\[[0-9;]*m/g, '').split('\n')) {
        const step = /^▸ (installing pnpm|installing dependencies|building every package|starting nats-server|starting Chroma|starting model-simulator|starting openai-service|starting chroma-service|starting funnel|starting web|waiting for the funnel)/.exec(line)
        if (step) phases.push({ at: (performance.now() - started) / 1000, step: step[1]! })
      }
    }
    npm.stdout.on('data', read)
    npm.stderr.on('data', read)
    let exitCode: number | string | undefined
    const exited = new Promise<void>((resolve) => npm.once('exit', (code, signal) => { exitCode = code ?? signal ?? 'unknown'; resolve() }))

    let healthyS: number | undefined
    const health = `http://127.0.0.1:${ports.funnel}/health`
    while (exitCode === undefined && (performance.now() - started) / 1000 < 2 * FIVE_MINUTES_S) {
      const ok = await fetch(health, { signal: AbortSignal.timeout(1_000) }).then((r) => r.status === 200, () => false)
      if (ok) {
        healthyS = (performance.now() - started) / 1000
        break
      }
      await delay(500)
    }
    for (let i = 0; i < 50 && !out.includes('Press Ctrl-C'); i++) await delay(100) // the table follows health

    const tree = descendants(npm.pid!)
    const tablePids = [...out.matchAll(/started \(pid (\d+)\)/g)].map((m) => Number(m[1]))
    progress(`fresh-start: ${healthyS === undefined ? 'never healthy' : `healthy after ${healthyS.toFixed(1)} s`}; ${tree.length} processes; Ctrl-C`)
    if (exitCode === undefined) process.kill(-npm.pid!, 'SIGINT')
    const stopStarted = performance.now()
    let npmExitS: number | undefined
    void exited.then(() => { npmExitS = (performance.now() - stopStarted) / 1000 })
    let left = tree.filter(alive)
    while ((left.length || npmExitS === undefined) && performance.now() - stopStarted < 60_000) {
      await delay(100)
      left = left.filter(alive)
    }
    const stopS = (performance.now() - stopStarted) / 1000
    const leftNames = left.map((pid) => {
      try {
        return `${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim().slice(0, 100)}`
      } catch {
        return String(pid)
      }
    })
    // A benchmark leaves nothing behind either: what was left, then the rest of npm's group (started late, or npm).
    for (const pid of left) process.kill(pid, 'SIGKILL')
    killGroup()
    process.off('exit', killGroup)
    if (healthyS === undefined) throw new Error(`npm start never reached a green /health (exit ${String(exitCode)}). Its last output:\n${out.slice(-3000)}`)

    const downloaded = [...out.matchAll(/downloaded (\d+)/g)].map((m) => Number(m[1])).pop() ?? 0
    const reused = [...out.matchAll(/reused (\d+)/g)].map((m) => Number(m[1])).pop() ?? 0
    const storeText = store.files > 0
      ? `**warm**: ${store.path} held ${store.files} files before the run, and pnpm reused ${reused} packages and downloaded ${downloaded}`
      : `**cold**: ${store.path} was empty; pnpm downloaded ${downloaded} packages`
    // Each phase lasts until the next one begins; the last (waiting for health) until health was green.
    const phaseRows = phases.map((p, i) => `| ${p.step} | ${p.at.toFixed(1)} s | ${Math.max(0, (phases[i + 1]?.at ?? healthyS!) - p.at).toFixed(1)} s |`)
    const verdict = healthyS < FIVE_MINUTES_S ? `under 5 minutes (${(FIVE_MINUTES_S - healthyS).toFixed(0)} s to spare)` : '**over 5 minutes**'
    writeSection('fresh-start', `## A fresh checkout to a green \`/health\`

${machine()}; load average ${load.toFixed(1)} when the run started (other work shared the cores).
\`git clone\` of the committed HEAD (${commit}) into an empty temporary directory (${cloneS.toFixed(1)} s), then
\`npm start\` there with free ports, no model key, no NATS running at \`NATS_URL\` and no pnpm on the PATH,
timed until the funnel's \`/health\` answered 200; then Ctrl-C (SIGINT to the process group).

The pnpm store was ${storeText}. With a warm store the install links packages instead of fetching them; on a
machine with an empty store "installing dependencies" takes longer (bound by the network). pnpm itself comes
from the npm registry into \`.tools/\` (npm's own cache may hold it).

| | result |
| --- | --- |
| **\`npm start\` to a green \`/health\`** | **${healthyS.toFixed(1)} s**: ${verdict} |
| Ctrl-C to every process gone | ${stopS.toFixed(1)} s (\`npm start\` exited after ${npmExitS === undefined ? '—' : `${npmExitS.toFixed(1)} s`}, code ${String(exitCode)}) |
| processes it started (the table: ${tablePids.length}; the whole tree: ${tree.length}) left after Ctrl-C | ${left.length === 0 ? 'none' : `**${left.length}**: ${leftNames.join('; ')}`} |

| phase (from \`npm start\`) | began at | took |
| --- | --- | --- |
${phaseRows.join('\n')}
`)
    progress(`fresh-start: ${healthyS.toFixed(1)} s to green health; ${left.length} process(es) left after Ctrl-C`)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
