import { useState, type FormEvent, type KeyboardEvent } from 'react'
import { useController } from '../app/controller-context'
import { useAppState } from '../app/store'

/**
 * Writes to the current room: Enter (or "Ask the assistant") asks the room's assistant, "Send to the room"
 * posts a message to the people in it, Escape (or "Stop") stops the answer being written.
 */
export function Composer () {
  const controller = useController()
  const [text, setText] = useState('')
  const [speak, setSpeak] = useState(false)
  const [draw, setDraw] = useState(false)
  const answering = useAppState((s) => Object.values(s.rooms[s.currentRoom]?.answers ?? {}).some((a) => a.text === null))
  const connected = useAppState((s) => s.connection === 'connected')
  const room = useAppState((s) => s.currentRoom)

  const ask = (e?: FormEvent): void => {
    e?.preventDefault()
    const t = text.trim()
    if (!t) return
    setText('')
    void controller.ask(t, { speak, draw })
  }
  const send = (): void => {
    const t = text.trim()
    if (!t) return
    setText('')
    void controller.sendMessage(t)
  }
  const onKey = (e: KeyboardEvent<HTMLTextAreaElement>): void => {
    if (e.key === 'Enter' && !e.shiftKey) ask(e)
    else if (e.key === 'Escape' && answering) void controller.stop()
  }

  return (
    <form className="composer" onSubmit={ask} aria-label={`Write in ${room}`}>
      <label htmlFor="composer-text">Message</label>
      <textarea
        id="composer-text" rows={2} value={text} maxLength={16_000}
        placeholder="Enter asks the assistant · Shift+Enter for a new line · Escape stops"
        onChange={(e) => { setText(e.target.value); if (e.target.value) controller.typing() }}
        onKeyDown={onKey}
      />
      <div className="composer-row">
        <label className="check"><input type="checkbox" checked={speak} onChange={(e) => setSpeak(e.target.checked)} /> Read the answer aloud</label>
        <label className="check"><input type="checkbox" checked={draw} onChange={(e) => setDraw(e.target.checked)} /> Draw a picture of it</label>
      </div>
      <div className="composer-row actions">
        <button type="submit" className="primary" disabled={!text.trim()}>Ask the assistant</button>
        <button type="button" onClick={send} disabled={!text.trim()}>Send to the room</button>
        <button type="button" onClick={() => void controller.stop()} disabled={!answering || !connected}>Stop</button>
      </div>
    </form>
  )
}
