import type { ConnectionState } from '@skein/client'
import { useController } from '../app/controller-context'
import { useAppState } from '../app/store'

const LABELS: Record<ConnectionState, string> = {
  idle: 'Not connected',
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
  closed: 'Not connected'
}

/** The name, the connection state at a glance, and who is signed in. */
export function Header () {
  const controller = useController()
  const user = useAppState((s) => s.session?.user)
  const connection = useAppState((s) => s.connection)
  return (
    <header className="topbar">
      <h1>Skein</h1>
      {user && (
        <div className="topbar-right">
          <span className={`connection ${connection}`} role="status" aria-label={`Connection: ${LABELS[connection]}`} data-state={connection}>
            <span className="dot" aria-hidden="true" />{LABELS[connection]}
          </span>
          {connection === 'offline' && <button type="button" className="link" onClick={() => controller.retryNow()}>Retry now</button>}
          <span className="who">Signed in as <b>{user}</b></span>
          <button type="button" onClick={() => controller.signOut()}>Sign out</button>
        </div>
      )}
    </header>
  )
}
