import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, normalize, relative, sep } from 'node:path'
import { constants, gzipSync } from 'node:zlib'
import { repoRoot } from '@skein/stack'
import { machine, progress, writeSection } from './report.js'

const DIST = join(repoRoot, 'apps', 'web', 'dist')
/** The budget: 300 kB of gzipped JavaScript on first load (kB = 1000 bytes, as Vite prints sizes). */
const TARGET_BYTES = 300_000
const GZIP_LEVEL = constants.Z_BEST_COMPRESSION // 9

/** The scripts index.html loads itself: module scripts and modulepreload links (paths inside dist/). */
export function entryScripts (html: string): string[] {
  const found: string[] = []
  for (const m of html.matchAll(/<script\b[^>]*\btype=["']module["'][^>]*\bsrc=["']([^"']+)["'][^>]*>/gi)) found.push(m[1]!)
  for (const m of html.matchAll(/<script\b[^>]*\bsrc=["']([^"']+)["'][^>]*\btype=["']module["'][^>]*>/gi)) found.push(m[1]!)
  for (const m of html.matchAll(/<link\b[^>]*\brel=["']modulepreload["'][^>]*\bhref=["']([^"']+)["'][^>]*>/gi)) found.push(m[1]!)
  for (const m of html.matchAll(/<link\b[^>]*\bhref=["']([^"']+)["'][^>]*\brel=["']modulepreload["'][^>]*>/gi)) found.push(m[1]!)
  return [...new Set(found)]
}

/** The static imports of a built module (`import … from "x"`, `import "x"`, `export … from "x"`), not `import("x")`. */
export function staticImports (code: string): string[] {
  const found: string[] = []
  for (const m of code.matchAll(/(?<![\w$.])(?:import|export)\s*(?:[\w$*{}\s,]+?\s*from\s*)?(["'])([^"'\n]+)\1/g)) found.push(m[2]!)
  return found
}

/** Resolves a script URL of the page (or a specifier relative to a module) to a file inside dist/, if it is one. */
function resolve (dist: string, spec: string, from: string | null): string | null {
  if (/^[a-z]+:/i.test(spec) || spec.startsWith('//')) return null
  const path = spec.startsWith('/') ? join(dist, spec) : from ? join(dirname(from), spec) : join(dist, spec)
  const file = normalize(path.split(/[?#]/)[0]!)
  return file.startsWith(dist + sep) && existsSync(file) ? file : null
}

/** Every JavaScript file the first load fetches: the entries and, transitively, their static imports. */
export function firstLoadScripts (dist = DIST): string[] {
  const html = readFileSync(join(dist, 'index.html'), 'utf8')
  const queue = entryScripts(html).map((s) => resolve(dist, s, null)).filter((f): f is string => f !== null)
  const seen = new Set<string>()
  while (queue.length) {
    const file = queue.shift()!
    if (seen.has(file)) continue
    seen.add(file)
    for (const spec of staticImports(readFileSync(file, 'utf8'))) {
      const dep = resolve(dist, spec, file)
      if (dep && dep.endsWith('.js')) queue.push(dep)
    }
  }
  return [...seen]
}

const kB = (n: number): string => `${(n / 1000).toFixed(1)} kB`

/**
 * The web app's first-load JavaScript, gzipped: reads the production build (`pnpm --filter @skein/web build`
 * first; this builds nothing), follows index.html's module scripts and their static imports, and gzips each
 * file at level 9, the best gzip setting.
 */
export async function webBundle (): Promise<void> {
  if (!existsSync(join(DIST, 'index.html'))) throw new Error(`no build in ${DIST}: run \`pnpm --filter @skein/web build\` first`)
  progress('web-bundle: measuring the first-load JavaScript of apps/web/dist')
  const files = firstLoadScripts(DIST).map((file) => {
    const bytes = readFileSync(file)
    const gz = (level: number): number => gzipSync(bytes, { level }).byteLength
    return { name: relative(DIST, file), raw: bytes.byteLength, gzip: gz(GZIP_LEVEL), fast: gz(1), usual: gz(6) }
  })
  if (!files.length) throw new Error('index.html loads no module script: is dist/ a Vite build?')
  const total = files.reduce((s, f) => s + f.gzip, 0)
  const sum = (key: 'raw' | 'fast' | 'usual'): number => files.reduce((s, f) => s + f[key], 0)
  const pass = total <= TARGET_BYTES
  const css = readFileSync(join(DIST, 'index.html'), 'utf8').match(/href=["'][^"']+\.css["']/g)?.length ?? 0
  const rows = files.map((f) => `| \`${f.name}\` | ${kB(f.raw)} | ${kB(f.fast)} | ${kB(f.usual)} | ${kB(f.gzip)} |`).join('\n')
  writeSection('web-bundle', `
## Web app: JavaScript on first load

${machine()}. The production build in \`apps/web/dist\` (\`pnpm --filter @skein/web build\`, Vite, React 19, the
client SDK; no UI kit). Counted: every module script and modulepreload index.html names, and their static
imports, transitively (dynamic \`import()\` chunks load later and are not counted). Each file is gzipped with
node:zlib; the budget is checked at level 9, the best gzip setting (what servers that pre-compress static
files use, and what \`apps/web/server.mjs\`, the server \`npm start\` runs on :3000, sends). Levels 1 (nginx's default \`gzip_comp_level\`) and 6 (zlib's default, most on-the-fly servers) are
shown beside it. kB = 1000 bytes. CSS (${css} stylesheet${css === 1 ? '' : 's'}) and source maps are not JavaScript and not counted.

| file | raw | gzip -1 | gzip -6 | gzip -9 |
| --- | --- | --- | --- | --- |
${rows}
| **total (${files.length} file${files.length === 1 ? '' : 's'})** | ${kB(sum('raw'))} | ${kB(sum('fast'))} | ${kB(sum('usual'))} | **${kB(total)}** |

Target: at most ${kB(TARGET_BYTES)} of gzipped JavaScript on first load: **${pass ? 'PASS' : 'FAIL'}** (${((total / TARGET_BYTES) * 100).toFixed(0)} % of the budget).
`)
  progress(`web-bundle: ${files.length} file(s), ${kB(total)} gzipped (target ${kB(TARGET_BYTES)}): ${pass ? 'PASS' : 'FAIL'}`)
}
