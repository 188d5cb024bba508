import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { availableParallelism, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { natsServerVersion, natsSyncsEveryWrite, repoRoot } from '@skein/stack'

export const REPORT = join(repoRoot, 'docs', 'benchmarks.md')

const HEADER = `# Benchmarks

Measured by \`npm run bench\` (all of them) or \`npm run bench -- <name>\` on the machine named in each
section. Each section is rewritten by its own benchmark; the numbers are what the last run measured.
`

/** Replaces (or appends) one benchmark's section of docs/benchmarks.md. */
/** The sections this run has written so far. */
export const written: string[] = []

export function writeSection (name: string, body: string): void {
  written.push(name)
  mkdirSync(dirname(REPORT), { recursive: true })
  const text = existsSync(REPORT) ? readFileSync(REPORT, 'utf8') : HEADER
  const start = `<!-- bench:${name} -->`
  const end = `<!-- /bench:${name} -->`
  const section = `${start}\n${body.trim()}\n${end}`
  const from = text.indexOf(start)
  const to = text.indexOf(end)
  const next = from >= 0 && to > from ? text.slice(0, from) + section + text.slice(to + end.length) : `${text.trimEnd()}\n\n${section}\n`
  writeFileSync(REPORT, next)
}

/** The p-th percentile (0–100) of numbers. */
export function percentile (values: number[], p: number): number {
  if (!values.length) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}

/** The machine, and the nats-server the bench starts (its version decides whether every write is synced to disk). */
export function machine (): string {
  const version = natsServerVersion()
  const nats = `nats-server ${version.join('.')} (${natsSyncsEveryWrite(version) ? 'every write synced to disk before its ack' : 'writes synced every two minutes'})`
  return `Node ${process.version}, ${availableParallelism()} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, ${nats}, ${new Date().toISOString().slice(0, 10)}`
}

export const progress = (message: string): void => { process.stdout.write(`▸ ${message}\n`) }
