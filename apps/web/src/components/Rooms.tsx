import { useState, type FormEvent } from 'react'
import { useController } from '../app/controller-context'
import { useAppState } from '../app/store'
import { MAIN } from '../app/state'

const EMPTY: string[] = []
const ROOM_PATTERN = '[A-Za-z0-9_\\-]{1,64}'

const sameIds = (a: string[], b: string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i])

/** Who is online, the rooms joined (switch, leave), joining one by name, and creating one with a model. */
export function Rooms () {
  const controller = useController()
  const rooms = useAppState((s) => s.roomOrder)
  const current = useAppState((s) => s.currentRoom)
  const online = useAppState((s) => s.rooms[MAIN]?.members ?? EMPTY)
  const models = useAppState((s) => s.models)
  const joining = useAppState((s) => s.busy.join_room === true)
  const creating = useAppState((s) => s.busy.create_room === true)
  const [join, setJoin] = useState('')
  const [name, setName] = useState('')
  const [model, setModel] = useState('')
  const [priv, setPriv] = useState(false)
  const [members, setMembers] = useState('')
  const [open, setOpen] = useState(false)
  const others = useAppState((s) => Object.values(s.threads).filter((t) => t.kind === 'conversation' && !s.roomOrder.includes(t.id)).map((t) => t.id).sort(), sameIds)

  const onJoin = async (e: FormEvent): Promise<void> => {
    e.preventDefault()
    if (join.trim() && await controller.joinRoom(join.trim())) setJoin('')
  }
  const onCreate = async (e: FormEvent): Promise<void> => {
    e.preventDefault()
    const ok = await controller.createRoom({
      ...(name.trim() ? { room: name.trim() } : {}),
      ...(model.trim() ? { model: model.trim() } : {}),
      private: priv,
      members: members.split(/[\s,]+/).filter(Boolean)
    })
    if (ok) { setName(''); setModel(''); setPriv(false); setMembers(''); setOpen(false) }
  }

  return (
    <section className="panel" aria-labelledby="rooms-title">
      <h2 id="rooms-title">Rooms</h2>
      <p className="online"><span className="muted">Online:</span> {online.length ? online.join(', ') : '…'}</p>
      <ul className="room-list">
        {rooms.map((r) => (
          <li key={r}>
            <button type="button" className={r === current ? 'room-button current' : 'room-button'} aria-pressed={r === current} onClick={() => controller.selectRoom(r)}>
              {r}
            </button>
            {r !== MAIN && <button type="button" className="link" aria-label={`Leave ${r}`} onClick={() => void controller.leaveRoom(r)}>Leave</button>}
          </li>
        ))}
      </ul>
      {others.length > 0 && (
        <p className="other-rooms">
          <span className="muted">Other rooms:</span>{' '}
          {others.map((r) => <button key={r} type="button" className="link" aria-label={`Join ${r}`} onClick={() => void controller.joinRoom(r)}>{r}</button>)}
        </p>
      )}
      <form className="inline-form" onSubmit={(e) => void onJoin(e)}>
        <label htmlFor="join-room">Join a room</label>
        <div className="row">
          <input id="join-room" value={join} onChange={(e) => setJoin(e.target.value)} pattern={ROOM_PATTERN} title="Letters, digits, _ and -" placeholder="room name" />
          <button type="submit" disabled={joining || !join.trim()}>Join</button>
        </div>
      </form>
      <details className="create-room" open={open} onToggle={(e) => setOpen(e.currentTarget.open)}>
        <summary>Create a room</summary>
        <form onSubmit={(e) => void onCreate(e)}>
          <label htmlFor="new-room">Name <span className="muted">(optional)</span></label>
          <input id="new-room" value={name} onChange={(e) => setName(e.target.value)} pattern={ROOM_PATTERN} title="Letters, digits, _ and -" />
          <label htmlFor="new-room-model">Model <span className="muted">(optional)</span></label>
          <input id="new-room-model" list="models" value={model} onChange={(e) => setModel(e.target.value)} onFocus={() => void controller.loadModels()} placeholder="the default model" />
          <datalist id="models">{models.map((m) => <option key={m} value={m} />)}</datalist>
          <label className="check"><input type="checkbox" checked={priv} onChange={(e) => setPriv(e.target.checked)} /> Private: only the people named may join</label>
          {priv && (
            <>
              <label htmlFor="new-room-members">Members</label>
              <input id="new-room-members" value={members} onChange={(e) => setMembers(e.target.value)} placeholder="bob, carol" />
            </>
          )}
          <button type="submit" disabled={creating}>{creating ? 'Creating…' : 'Create room'}</button>
        </form>
      </details>
    </section>
  )
}
