#!/usr/bin/env node
// `npm start`: brings the whole local stack up, prints what runs where, and stops all of it on Ctrl-C.
import { join, resolve } from 'node:path'
import { ManagedProcess } from './managed-process.js'
import { externalNatsNote, natsServerVersion, runningNatsVersion } from './nats-server.js'
import { DEFAULT_PORTS, repoRoot, startStack, type RunningStack, type StackPorts } from './stack.js'

const env = process.env
const dev = process.argv[2] === 'dev'

function port (name: string, fallback: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1 || n > 65535) {
    process.stderr.write(`✖ ${name} must be a port number from 1 to 65535 (got ${JSON.stringify(raw)})\n`)
    process.exit(1)
  }
  return n
}

const ports: StackPorts = {
  funnel: port('FUNNEL_PORT', DEFAULT_PORTS.funnel),
  openai: port('OPENAI_SERVICE_PORT', DEFAULT_PORTS.openai),
  chroma: port('CHROMA_SERVICE_PORT', DEFAULT_PORTS.chroma),
  web: port('WEB_PORT', DEFAULT_PORTS.web),
  chromadb: port('CHROMA_PORT', DEFAULT_PORTS.chromadb),
  simulator: port('SIMULATOR_PORT', DEFAULT_PORTS.simulator)
}

function table (stack: RunningStack): string {
  const rows = stack.parts.map((p) => [p.name, p.url, p.origin === 'started' ? `started (pid ${p.pid ?? '?'})` : 'already running'])
  const backend = stack.modelBackend
  rows.push(backend.kind === 'models-file'
    ? ['models file', backend.url, 'its backends answer, chat and embeddings alike (OPENAI_BASE_URL/OPENAI_API_KEY, when set, replace the first one\'s)']
    : ['model backend', backend.url, backend.kind === 'simulator'
        ? 'SIMULATOR: offline model simulator, answers are simulated (set OPENAI_API_KEY, OPENAI_BASE_URL or MODELS_CONFIG for a real model)'
        : 'real OpenAI-compatible backend'])
  const widths = [0, 1].map((i) => Math.max(...rows.map((r) => r[i]!.length)))
  return rows.map((r) => `  ${r[0]!.padEnd(widths[0]!)}  ${r[1]!.padEnd(widths[1]!)}  ${r[2]}`).join('\n')
}

async function main (): Promise<void> {
  const dataDir = env.SKEIN_DATA_DIR ?? join(repoRoot, '.data')
  const started = Date.now()
  // `npm run dev`: compilers in watch mode rebuild dist/, and `node --watch` restarts what changed.
  const watchers = dev
    ? [
        new ManagedProcess({ name: 'tsc --watch', command: 'pnpm', args: ['-r', '--parallel', '--filter', './libs/*', '--filter', './services/*', 'exec', 'tsc', '-p', 'tsconfig.json', '--watch', '--preserveWatchOutput'], cwd: repoRoot, logFile: join(dataDir, 'logs', 'tsc.log'), env: { PATH: `${join(repoRoot, '.tools', 'node_modules', '.bin')}:${env.PATH ?? ''}` } }),
        new ManagedProcess({ name: 'vite build --watch', command: 'pnpm', args: ['--filter', '@skein/web', 'exec', 'vite', 'build', '--watch'], cwd: repoRoot, logFile: join(dataDir, 'logs', 'vite.log'), env: { PATH: `${join(repoRoot, '.tools', 'node_modules', '.bin')}:${env.PATH ?? ''}` } })
      ]
    : []
  const stack = await startStack({
    dataDir,
    ports,
    ...(env.NATS_URL ? { natsUrl: env.NATS_URL } : {}),
    ...(env.CHROMA_URL ? { chromaUrl: env.CHROMA_URL } : {}),
    ...(env.OPENAI_API_KEY ? { openaiApiKey: env.OPENAI_API_KEY } : {}),
    ...(env.OPENAI_BASE_URL ? { openaiBaseUrl: env.OPENAI_BASE_URL } : {}),
    // Relative to where `npm start` was typed (npm runs the script from the repository root).
    ...(env.MODELS_CONFIG ? { modelsConfig: resolve(env.INIT_CWD ?? process.cwd(), env.MODELS_CONFIG) } : {}),
    // The user's AUTH_DEV_LOGIN and JWT_SECRET reach every service (the stack's defaults apply without them).
    env: {
      LOG_LEVEL: env.LOG_LEVEL ?? 'info',
      ...(env.AUTH_DEV_LOGIN ? { AUTH_DEV_LOGIN: env.AUTH_DEV_LOGIN } : {}),
      ...(env.JWT_SECRET ? { JWT_SECRET: env.JWT_SECRET } : {})
    },
    watch: dev,
    onProgress: (m) => process.stdout.write(`▸ ${m}\n`)
  })

  process.stdout.write(`\nSkein is up in ${Math.round((Date.now() - started) / 1000)} s — open http://127.0.0.1:${ports.web}\n\n${table(stack)}\n\n`)
  process.stdout.write(`  health  ${stack.funnelUrl}/health    API docs  ${stack.funnelUrl}/docs  and  ${stack.funnelUrl}/api/docs\n`)
  process.stdout.write(`  logs    ${join(dataDir, 'logs')}\n`)
  if (stack.nats && !stack.nats.syncsEveryWrite) {
    process.stdout.write(`  note    nats-server ${natsServerVersion().join('.')} cannot sync every write to disk (2.10+ can): acknowledged messages survive a crash, a power loss may lose the last two minutes\n`)
  }
  const external = stack.parts.find((p) => p.name === 'nats' && p.origin === 'external')
  if (external) process.stdout.write(`  note    ${externalNatsNote(external.url, await runningNatsVersion(external.url))}\n`)
  if (dev) process.stdout.write('  watch   TypeScript and the web app rebuild on save; services restart (logs/tsc.log, logs/vite.log)\n')
  process.stdout.write('\nPress Ctrl-C to stop everything started here.\n')

  let stopping = false
  for (const [name, proc] of stack.services) {
    void proc.exited.then(({ code, signal }) => {
      if (!stopping) process.stderr.write(`✖ ${name} exited (${signal ?? `code ${code}`}); see ${join(dataDir, 'logs', `${name}.log`)}\n`)
    })
  }

  const shutdown = (signal: string) => {
    if (stopping) return
    stopping = true
    process.stdout.write(`\n▸ ${signal}: stopping everything started here\n`)
    void Promise.all(watchers.map((w) => w.stop())).then(() => stack.stop()).then(() => {
      process.stdout.write('▸ stopped\n')
      process.exit(0)
    })
  }
  process.on('SIGINT', () => shutdown('SIGINT'))
  process.on('SIGTERM', () => shutdown('SIGTERM'))
}

main().catch((err: unknown) => {
  process.stderr.write(`✖ the stack did not start: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exit(1)
})
