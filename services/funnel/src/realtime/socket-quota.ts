/** Which limit a refused handshake hit. */
export type QuotaRefusal = 'user' | 'address'

/**
 * How many WebSockets each user and each address hold open on this funnel. A slot is taken at the handshake,
 * before the upgrade, so a burst of handshakes cannot overshoot the cap while the first are still upgrading;
 * it is given back once, when the connection under it closes (refused, failed or ended).
 */
export class SocketQuota {
  private readonly byUser = new Map<string, number>()
  private readonly byAddress = new Map<string, number>()

  constructor (readonly perUser: number, readonly perAddress: number) {}

  /** A slot for `user` at `address`: the function that gives it back, or which limit is reached. */
  take (user: string, address: string): (() => void) | QuotaRefusal {
    if ((this.byUser.get(user) ?? 0) >= this.perUser) return 'user'
    if ((this.byAddress.get(address) ?? 0) >= this.perAddress) return 'address'
    bump(this.byUser, user, 1)
    bump(this.byAddress, address, 1)
    let held = true
    return () => {
      if (!held) return
      held = false
      bump(this.byUser, user, -1)
      bump(this.byAddress, address, -1)
    }
  }
}

function bump (counts: Map<string, number>, key: string, by: number): void {
  const n = (counts.get(key) ?? 0) + by
  if (n > 0) counts.set(key, n)
  else counts.delete(key)
}
