#!/usr/bin/env node
// Serves the production build of the web app (dist/) on :3000 with a single-page fallback, and tells the
// app where the funnel is (FUNNEL_URL) by inlining it into index.html. Text files go gzipped (level 9, made
// once per file and kept) to browsers that accept it. Node built-ins only.
import { createServer } from 'node:http'
import { readFile, stat } from 'node:fs/promises'
import { extname, join, normalize, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { constants, gzipSync } from 'node:zlib'

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

const compressible = new Set(['.html', '.js', '.css', '.svg', '.json', '.map'])
const gzipped = new Map()

/** Sends a body, gzipped when the browser accepts it and the type is worth it. */
function send (req, res, key, type, body) {
  res.setHeader('content-type', types[type] ?? 'application/octet-stream')
  if (!compressible.has(type)) return res.end(body)
  res.setHeader('vary', 'accept-encoding')
  if (!/\bgzip\b/.test(req.headers['accept-encoding'] ?? '')) return res.end(body)
  let zipped = gzipped.get(key)
  if (!zipped) gzipped.set(key, zipped = gzipSync(body, { level: constants.Z_BEST_COMPRESSION }))
  res.setHeader('content-encoding', 'gzip')
  res.end(zipped)
}

const server = createServer(async (req, res) => {
  const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
  const file = normalize(join(root, path))
  res.setHeader('x-content-type-options', 'nosniff')
  if (file.startsWith(root + sep) && (await stat(file).catch(() => null))?.isFile()) {
    if (path.startsWith('/assets/')) res.setHeader('cache-control', 'public, max-age=31536000, immutable')
    send(req, res, file, extname(file), await readFile(file))
    return
  }
  res.setHeader('cache-control', 'no-cache')
  send(req, res, 'index.html', '.html', Buffer.from(index))
})
server.listen(port, host, () => process.stdout.write(`web app on http://${host}:${port}\n`))
const close = () => server.close(() => process.exit(0))
process.on('SIGTERM', close)
process.on('SIGINT', close)
