import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'tap'
import { parse } from 'yaml'
import { NODE_FLAGS, repoRoot } from '../src/index.js'

// Docker cannot run on our machines, so the compose file is checked statically: the services, their ports,
// healthchecks that use a binary the image really has, and dependencies that wait for health.

interface ComposeService {
  image?: string
  build?: { context: string, dockerfile: string, args?: Record<string, string> }
  environment?: Record<string, string>
  ports?: string[]
  healthcheck?: { test: string[] }
  depends_on?: Record<string, { condition: string }>
}
const file = readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8')
const compose = parse(file, { merge: true }) as { name?: string, version?: string, services: Record<string, ComposeService> }
const services = compose.services

test('the compose file has a name, no version key, and the whole stack', async (t) => {
  t.equal(compose.name, 'skein')
  t.notOk('version' in compose)
  t.same(Object.keys(services).sort(), ['chroma', 'chroma-service', 'funnel', 'model-simulator', 'nats', 'openai-service', 'web'])
})

test('images are pinned and the Dockerfile they build from exists', async (t) => {
  for (const [name, s] of Object.entries(services)) {
    t.ok(s.image, `${name} names its image`)
    t.match(s.image, /:[0-9][\w.-]*$/, `${name} pins a version tag`)
    t.notMatch(s.image, /:latest$/, `${name} is not :latest`)
    if (s.build) {
      t.ok(existsSync(join(repoRoot, s.build.context, s.build.dockerfile)), `${name}: ${s.build.dockerfile} exists`)
      t.ok(s.build.args?.ENTRY, `${name} says what the image runs`)
      const entry = s.build.args!.ENTRY!.split(' ')[0]!
      if (!entry.includes('node_modules')) t.ok(existsSync(join(repoRoot, entry.replace('/dist/', '/src/').replace(/\.js$/, '.ts'))) || existsSync(join(repoRoot, entry)), `${name}: ${entry} is a real entry`)
    }
  }
  t.match(readFileSync(join(repoRoot, 'infra', 'Dockerfile'), 'utf8'), /FROM \$\{NODE_IMAGE\}/)
  t.match(readFileSync(join(repoRoot, 'infra', 'Dockerfile'), 'utf8'), /ARG NODE_IMAGE=node:20\.\d+\.\d+-bookworm-slim/, 'the base image is pinned to a glibc 2.36 Debian')
})

test('every service has a healthcheck with a binary its image has', async (t) => {
  for (const [name, s] of Object.entries(services)) {
    const check = s.healthcheck?.test
    t.ok(Array.isArray(check) && check[0] === 'CMD', `${name} has an exec-form healthcheck`)
    // Our images are node:*-slim (node, no curl or wget); nats:*-alpine has busybox wget.
    const binary = check?.[1]
    t.equal(binary, s.build ? 'node' : 'wget', `${name} checks with ${binary}`)
  }
})

test('dependencies wait for health and point at services that exist', async (t) => {
  const expected: Record<string, string[]> = {
    'openai-service': ['model-simulator', 'nats'],
    'chroma-service': ['chroma', 'nats'],
    funnel: ['chroma-service', 'nats', 'openai-service'],
    web: ['funnel']
  }
  for (const [name, deps] of Object.entries(expected)) {
    t.same(Object.keys(services[name]?.depends_on ?? {}).sort(), deps, `${name} depends on ${deps.join(', ')}`)
    for (const [dep, cond] of Object.entries(services[name]?.depends_on ?? {})) {
      t.ok(services[dep], `${dep} exists`)
      t.equal(cond.condition, 'service_healthy', `${name} waits for ${dep} to be healthy`)
    }
  }
})

test('ports: the funnel on 5000 and the web app on 3000; both services on 8001 in their containers', async (t) => {
  t.same(services.funnel?.ports, ['5000:5000'])
  t.same(services.web?.ports, ['3000:3000'])
  t.equal(services['openai-service']?.environment?.PORT, '8001')
  t.equal(services['chroma-service']?.environment?.PORT, '8001')
  t.equal(services.funnel?.environment?.OPENAI_SERVICE_URL, 'http://openai-service:8001')
  t.equal(services.funnel?.environment?.CHROMA_SERVICE_URL, 'http://chroma-service:8001')
  t.equal(services.funnel?.environment?.NODE_OPTIONS, NODE_FLAGS.funnel!.join(' '), 'the funnel runs with the flags npm start gives it')
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'services', 'funnel', 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  t.equal(pkg.scripts.start, `node ${NODE_FLAGS.funnel!.join(' ')} dist/server.js`, 'and so does its own start script')
  t.equal(services['chroma-service']?.environment?.CHROMA_URL, 'http://chroma:8000')
  for (const name of ['openai-service', 'chroma-service', 'funnel', 'model-simulator']) {
    t.equal(services[name]?.environment?.HOST, '0.0.0.0', `${name} listens on every interface of its container`)
    t.equal(services[name]?.environment?.NATS_URL, 'nats://nats:4222', `${name} finds NATS`)
    t.match(services[name]?.environment?.JWT_SECRET, /^\$\{JWT_SECRET:\?/, `${name} refuses to start without a token secret`)
  }
  t.match(services.nats?.healthcheck?.test.join(' '), /js-enabled-only=true/, 'NATS is healthy only with JetStream on')
})

test('NATS in Docker syncs every JetStream write to disk before acknowledging it', async (t) => {
  const services = (parse(readFileSync(join(repoRoot, 'docker-compose.yml'), 'utf8')) as { services: Record<string, { command?: string[], volumes?: string[], image?: string }> }).services
  const nats = services.nats!
  const mount = (nats.volumes ?? []).find((v) => v.startsWith('./infra/nats.conf:'))
  t.ok(mount, 'the config file is mounted')
  const inContainer = mount!.split(':')[1]!
  t.same(nats.command, ['-c', inContainer], 'and used')
  t.match(nats.image, /^nats:2\.(1\d|[2-9]\d)\./, 'a nats-server that knows sync_interval (2.10 or later)')
  const conf = readFileSync(join(repoRoot, 'infra', 'nats.conf'), 'utf8')
  t.match(conf, /jetstream\s*\{[^}]*sync_interval:\s*always/, 'JetStream syncs every write')
  t.match(conf, /store_dir:\s*\/data/, 'into the mounted volume')
  t.match(conf, /http_port:\s*8222/, 'the monitoring port the healthcheck reads')
})
