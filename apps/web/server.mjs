#!/usr/bin/env node
// Serves the production build of the web app (dist/) on :3000 with a single-page fallback, and tells the
// app where the funnel is (FUNNEL_URL) by inlining it into index.html. Node built-ins only.
import { createServer } from 'node:http'
import { readFile, stat } from 'node:fs/promises'
import { extname, join, normalize, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(fileURLToPath(new URL('.', import.meta.url)), 'dist')
const host = process.env.HOST ?? '127.0.0.1'
const port = Number(process.env.PORT ?? 3000)
const funnelUrl = process.env.FUNNEL_URL ?? ''
const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.map': 'application/json',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2'
}

const index = (await readFile(join(root, 'index.html'), 'utf8'))
  .replace('<!--skein-config-->', `<script>window.SKEIN_CONFIG=${JSON.stringify({ funnelUrl }).replace(/</g, '\\u003c')}</script>`)

const server = createServer(async (req, res) => {
  const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
  const file = normalize(join(root, path))
  res.setHeader('x-content-type-options', 'nosniff')
  if (file.startsWith(root + sep) && (await stat(file).catch(() => null))?.isFile()) {
    res.setHeader('content-type', types[extname(file)] ?? 'application/octet-stream')
    if (path.startsWith('/assets/')) res.setHeader('cache-control', 'public, max-age=31536000, immutable')
    res.end(await readFile(file))
    return
  }
  res.setHeader('content-type', types['.html'])
  res.setHeader('cache-control', 'no-cache')
  res.end(index)
})
server.listen(port, host, () => process.stdout.write(`web app on http://${host}:${port}\n`))
const close = () => server.close(() => process.exit(0))
process.on('SIGTERM', close)
process.on('SIGINT', close)
