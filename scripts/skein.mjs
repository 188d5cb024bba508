#!/usr/bin/env node
// The one entry point behind the root npm scripts (`npm start`, `npm test`, `npm run dev|bench|build|lint`).
// It runs before anything is installed, so it is plain JavaScript with Node built-ins only: it makes sure
// pnpm 10, nats-server and the workspace dependencies are present, builds, then hands over to the workspace.
import { spawn, spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = dirname(dirname(fileURLToPath(import.meta.url)))
const PNPM_VERSION = '10.34.8'
const command = process.argv[2] ?? 'start'
const rest = process.argv.slice(3)

function step (message) {
  process.stdout.write(`\x1b[36m▸\x1b[0m ${message}\n`)
}

function fail (message) {
  process.stderr.write(`\x1b[31m✖\x1b[0m ${message}\n`)
  process.exit(1)
}

function run (cmd, args, opts = {}) {
  const res = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts })
  if (res.error) fail(`${cmd} ${args.join(' ')} could not start: ${res.error.message}`)
  return res.status ?? 1
}

function output (cmd, args) {
  const res = spawnSync(cmd, args, { encoding: 'utf8', cwd: root })
  return res.status === 0 ? res.stdout.trim() : null
}

// pnpm 10 through npm, into .tools/ (corepack's signature check fails on some machines; pnpm 11 needs Node 22).
function ensurePnpm () {
  const global = output('pnpm', ['--version'])
  if (global && global.startsWith('10.')) return 'pnpm'
  const local = join(root, '.tools', 'node_modules', '.bin', 'pnpm')
  if (existsSync(local) && output(local, ['--version']) === PNPM_VERSION) return local
  step(`installing pnpm ${PNPM_VERSION} into .tools/ (one time)`)
  if (run('npm', ['install', '--prefix', join(root, '.tools'), '--no-save', '--no-package-lock', '--loglevel=error', `pnpm@${PNPM_VERSION}`]) !== 0) {
    fail('could not install pnpm with npm: check that the npm registry is reachable, then run the command again')
  }
  return local
}

/** Installs a Debian package with apt-get (through sudo when not root); false when that failed. */
function aptInstall (pkg) {
  const sudo = process.getuid && process.getuid() === 0 ? [] : ['sudo']
  const apt = (args) => (sudo.length ? run('sudo', ['apt-get', ...args]) : run('apt-get', args))
  return apt(['update', '-qq']) === 0 && apt(['install', '-y', '-qq', pkg]) === 0
}

// nats-server from Debian's package when it is absent (the stack and the tests start their own).
function ensureNatsServer () {
  if (output('sh', ['-c', 'command -v nats-server'])) return
  if (existsSync('/usr/sbin/nats-server')) return
  step('nats-server is missing: installing it with apt-get (Debian package nats-server)')
  if (!aptInstall('nats-server')) {
    fail('could not install nats-server: run `apt-get install nats-server` yourself, or set NATS_URL to a running NATS server with JetStream')
  }
}

// NATS 2.9 (Debian bookworm's) cannot sync every JetStream write to disk before acknowledging it; 2.10 can
// (`sync_interval: always`). When the one installed is older, Debian trixie's nats-server 2.10 is put in
// .tools/nats-server/ (one time), where libs/stack looks first. apt-get fetches it with lists of its own
// under .tools/: the machine's apt sources and installed packages are left as they are.
const SYNCING_NATS = join(root, '.tools', 'nats-server', 'nats-server')

function natsMinor (binary) {
  const m = /v?(\d+)\.(\d+)\.\d+/.exec(output(binary, ['--version']) ?? '')
  return m ? Number(m[1]) * 100 + Number(m[2]) : 0
}

function ensureSyncingNats () {
  if (existsSync(SYNCING_NATS)) return
  const installed = output('sh', ['-c', 'command -v nats-server']) ?? '/usr/sbin/nats-server'
  if (natsMinor(installed) >= 210) return
  step('the system\'s nats-server is older than 2.10 and cannot sync every write to disk: fetching Debian trixie\'s nats-server 2.10 into .tools/ (one time; your apt sources are not changed)')
  const work = join(root, '.tools', 'nats-apt')
  rmSync(work, { recursive: true, force: true })
  for (const dir of ['lists/partial', 'cache/archives/partial', 'deb', 'files']) mkdirSync(join(work, dir), { recursive: true })
  writeFileSync(join(work, 'sources.list'), 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main\n')
  const own = [
    '-o', `Dir::Etc::SourceList=${join(work, 'sources.list')}`, '-o', 'Dir::Etc::SourceParts=/dev/null',
    '-o', `Dir::State::Lists=${join(work, 'lists')}`, '-o', `Dir::Cache=${join(work, 'cache')}`,
    '-o', 'Debug::NoLocking=1', '-o', 'APT::Sandbox::User=root'
  ]
  const quiet = (cmd, args, cwd = work) => spawnSync(cmd, args, { cwd, encoding: 'utf8' }).status === 0
  const fetched = quiet('apt-get', [...own, '-qq', 'update']) && quiet('apt-get', [...own, '-qq', 'download', 'nats-server'], join(work, 'deb'))
  const deb = fetched ? readdirSync(join(work, 'deb')).find((f) => f.endsWith('.deb')) : undefined
  if (deb && quiet('dpkg-deb', ['-x', join(work, 'deb', deb), join(work, 'files')])) {
    mkdirSync(dirname(SYNCING_NATS), { recursive: true })
    copyFileSync(join(work, 'files', 'usr', 'sbin', 'nats-server'), SYNCING_NATS)
  }
  rmSync(work, { recursive: true, force: true })
  if (natsMinor(SYNCING_NATS) >= 210) return
  rmSync(SYNCING_NATS, { force: true })
  step('could not fetch a newer nats-server: going on with the system\'s, which syncs to disk every two minutes (docs/reliability.md says what that risks)')
}

// Debian's chromium for the browser tests (driven by playwright-core; nothing is downloaded at run time).
function ensureChromium () {
  if (existsSync('/usr/bin/chromium')) return
  step('chromium is missing: installing it with apt-get for the browser tests (Debian package chromium)')
  if (!aptInstall('chromium')) fail('could not install chromium: run `apt-get install chromium` yourself, then npm test again')
}

function install (pnpm) {
  step('installing dependencies (pnpm install)')
  const frozen = process.env.CI ? ['--frozen-lockfile'] : ['--prefer-offline']
  if (run(pnpm, ['install', ...frozen, '--reporter=append-only']) !== 0) {
    fail('pnpm install failed: read the error above; a network error means the npm registry is unreachable')
  }
}

function build (pnpm) {
  step('building every package (pnpm -r build)')
  if (run(pnpm, ['-r', '--reporter=append-only', 'build']) !== 0) fail('the build failed: read the compiler errors above')
}

function handOver (cmd, args) {
  const child = spawn(cmd, args, { stdio: 'inherit', cwd: root })
  // Ctrl-C reaches the whole foreground process group; the child shuts its own processes down.
  const forward = (signal) => () => child.kill(signal)
  process.on('SIGINT', () => {})
  process.on('SIGTERM', forward('SIGTERM'))
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
}

const pnpm = ensurePnpm()
const bin = (pkg, file) => join(root, pkg, 'dist', file)

switch (command) {
  case 'start':
  case 'dev':
    ensureNatsServer()
    ensureSyncingNats()
    install(pnpm)
    build(pnpm)
    handOver(process.execPath, [bin('libs/stack', 'cli.js'), command, ...rest])
    break
  case 'test':
    ensureNatsServer()
    ensureSyncingNats()
    ensureChromium()
    install(pnpm)
    build(pnpm)
    handOver(process.execPath, [join(root, 'scripts', 'test.mjs'), pnpm, ...rest])
    break
  case 'bench':
    ensureNatsServer()
    ensureSyncingNats()
    install(pnpm)
    build(pnpm)
    handOver(pnpm, ['-r', '--workspace-concurrency=1', '--if-present', 'bench', ...rest])
    break
  case 'build':
    install(pnpm)
    build(pnpm)
    break
  case 'lint':
    install(pnpm)
    process.exit(run(pnpm, ['-r', '--if-present', 'lint']))
    break
  default:
    fail(`unknown command "${command}": use start, dev, test, bench, build or lint`)
}
