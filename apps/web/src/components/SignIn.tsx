import { useState, type FormEvent } from 'react'
import { useController } from '../app/controller-context'
import { useAppState } from '../app/store'

/** The local stack's dev login: a name, no password. */
export function SignIn () {
  const controller = useController()
  const busy = useAppState((s) => s.busy.sign_in === true)
  const [name, setName] = useState('')
  const submit = (e: FormEvent): void => {
    e.preventDefault()
    if (name.trim()) void controller.signIn(name)
  }
  return (
    <main className="sign-in">
      <form onSubmit={submit} className="panel">
        <h2>Sign in</h2>
        <p>Pick a name. On the local stack there is no password (the dev login).</p>
        <label htmlFor="sign-in-name">Your name</label>
        <input
          id="sign-in-name" value={name} onChange={(e) => setName(e.target.value)} autoFocus required
          pattern="[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}" title="Letters, digits, _ . and -, up to 64" autoComplete="username"
        />
        <button type="submit" disabled={busy}>{busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
    </main>
  )
}
