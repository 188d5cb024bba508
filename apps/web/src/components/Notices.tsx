import { useController } from '../app/controller-context'
import { useAppState } from '../app/store'

/** Errors (a request that failed, what the server said), each until dismissed. */
export function Notices () {
  const controller = useController()
  const notices = useAppState((s) => s.notices)
  return (
    <div className="notices" aria-live="assertive">
      {notices.map((n) => (
        <p key={n.id} className="notice" role="alert">
          <span>{n.text}</span>
          <button type="button" className="link" onClick={() => controller.dismiss(n.id)} aria-label="Dismiss this message">Dismiss</button>
        </p>
      ))}
    </div>
  )
}
