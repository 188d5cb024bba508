#!/usr/bin/env node
// Runs every package's tests (tap) one package after another, echoes their output, and ends with one
// closing line that any CI can read: "tests: N passed, N failed".
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = dirname(dirname(fileURLToPath(import.meta.url)))
const [pnpm = 'pnpm', ...filters] = process.argv.slice(2)
const args = ['-r', '--workspace-concurrency=1', '--reporter=append-only', '--no-bail', ...filters.flatMap((f) => ['--filter', f]), 'test']
const child = spawn(pnpm, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] })

let passed = 0
let failed = 0
let skipped = 0
// tap closes each package's run with a line like "# { total: 12, pass: 11, fail: 1, skip: 0 }".
const summary = /#\s*\{\s*total:\s*(\d+)(.*)\}/

createInterface({ input: child.stdout }).on('line', (line) => {
  process.stdout.write(line + '\n')
  const m = summary.exec(line)
  if (!m) return
  const field = (name) => Number((new RegExp(`${name}:\\s*(\\d+)`).exec(m[2]) ?? [])[1] ?? 0)
  passed += field('pass')
  failed += field('fail')
  skipped += field('skip') + field('todo')
})

child.on('exit', (code) => {
  if (code !== 0 && failed === 0) failed = 1 // a package that crashed before tap could count
  process.stdout.write(`\ntests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`)
  process.exit(code === 0 && failed === 0 ? 0 : 1)
})
