// What Linux says about a server process: its resident memory and CPU time (/proc), and which process
// listens on a port (for a funnel the bench did not start).
import { readdirSync, readFileSync, readlinkSync } from 'node:fs'

/** VmRSS in KiB from the text of /proc/<pid>/status. */
export function parseVmRssKib (status: string): number {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status)
  if (!m) throw new Error('no VmRSS line: is the process a zombie?')
  return Number(m[1])
}

/** utime + stime in clock ticks from the text of /proc/<pid>/stat (the name may hold spaces and parentheses). */
export function parseCpuTicks (stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12 here.
  const utime = Number(fields[11])
  const stime = Number(fields[12])
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error('unreadable /proc/<pid>/stat')
  return utime + stime
}

/** Linux's USER_HZ: /proc times are in hundredths of a second on every architecture Node runs on. */
const TICKS_PER_S = 100

export function rssKib (pid: number): number {
  return parseVmRssKib(readFileSync(`/proc/${pid}/status`, 'utf8'))
}

export function cpuSeconds (pid: number): number {
  return parseCpuTicks(readFileSync(`/proc/${pid}/stat`, 'utf8')) / TICKS_PER_S
}

/** The socket inodes listening on `port` in the text of /proc/net/tcp or /proc/net/tcp6. */
export function listeningInodes (table: string, port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0')
  const inodes: string[] = []
  for (const line of table.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/)
    // local_address is field 1 (ADDR:PORT), st is field 3 (0A = LISTEN), inode is field 9.
    if (f.length > 9 && f[1]!.endsWith(`:${hexPort}`) && f[3] === '0A') inodes.push(f[9]!)
  }
  return inodes
}

/** The pid of the process listening on a TCP port of this machine, when it can be found. */
export function listeningPid (port: number): number | undefined {
  const inodes = new Set<string>()
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    try {
      for (const i of listeningInodes(readFileSync(table, 'utf8'), port)) inodes.add(`socket:[${i}]`)
    } catch {}
  }
  if (!inodes.size) return undefined
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    let fds: string[]
    try {
      fds = readdirSync(`/proc/${entry}/fd`)
    } catch {
      continue
    }
    for (const fd of fds) {
      try {
        if (inodes.has(readlinkSync(`/proc/${entry}/fd/${fd}`))) return Number(entry)
      } catch {}
    }
  }
  return undefined
}
