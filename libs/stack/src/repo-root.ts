import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository root (this file is libs/stack/{src,dist}/repo-root.*). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
