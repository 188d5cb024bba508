import { useEffect, useState } from 'react'
import { wsUrl } from './config'

type Connection = 'connecting' | 'connected' | 'offline'

/** The app shell: opens the socket once and shows the connection state. */
export function App () {
  const [connection, setConnection] = useState<Connection>('connecting')
  useEffect(() => {
    const socket = new WebSocket(wsUrl)
    socket.onopen = () => setConnection('connected')
    socket.onclose = () => setConnection('offline')
    return () => socket.close()
  }, [])
  return (
    <main className="shell">
      <header>
        <h1>Skein</h1>
        <span className={`connection ${connection}`} role="status">{connection}</span>
      </header>
      <p>Real-time threads, rooms and memory. Rooms and threads arrive here as the realtime and threads work lands.</p>
    </main>
  )
}
