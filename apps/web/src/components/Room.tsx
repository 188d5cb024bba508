import { useLayoutEffect, useMemo, useRef } from 'react'
import { useController } from '../app/controller-context'
import { useAppState } from '../app/store'
import { answerText, logOf, type Answer, type Message } from '../app/state'
import { Composer } from './Composer'

const EMPTY: string[] = []

/** The current room: who is in it, its log (messages and answers), who is typing, and the composer. */
export function Room () {
  const roomId = useAppState((s) => s.currentRoom)
  const room = useAppState((s) => s.rooms[s.currentRoom])
  const me = useAppState((s) => s.session?.user ?? '')
  const entries = useMemo(() => (room ? logOf(room) : []), [room])
  const members = room?.members ?? EMPTY
  const typists = Object.keys(room?.typing ?? {}).filter((u) => u !== me)
  const controller = useController()
  const loadingEarlier = useAppState((s) => s.busy[`earlier:${s.currentRoom}`] === true)
  const logRef = useRef<HTMLOListElement>(null)
  const atBottom = useRef(true)

  // Follow the log as it grows, unless the reader scrolled up.
  useLayoutEffect(() => {
    const el = logRef.current
    if (el && atBottom.current) el.scrollTop = el.scrollHeight
  }, [entries])

  return (
    <section className="room panel" aria-labelledby="room-title" data-room={roomId}>
      <div className="room-head">
        <h2 id="room-title">Room <span className="room-name">{roomId}</span>{room?.info?.private && <span className="tag">private</span>}</h2>
        <p className="members" aria-label="In this room">
          {members.length ? `In this room: ${members.join(', ')}` : 'Joining…'}
        </p>
      </div>
      <ol
        className="log" ref={logRef} aria-label={`Messages in ${roomId}`} tabIndex={0}
        onScroll={(e) => { const el = e.currentTarget; atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40 }}
      >
        {room?.earlier != null && (
          <li className="log-earlier">
            <button type="button" className="link" disabled={loadingEarlier} onClick={() => { void controller.loadEarlier(roomId) }}>
              {loadingEarlier ? 'Loading earlier messages…' : 'Load earlier messages'}
            </button>
          </li>
        )}
        {entries.length === 0 && <li className="log-empty">No messages yet.</li>}
        {entries.map((e) => e.kind === 'message'
          ? <MessageItem key={e.message.id} m={e.message} me={me} />
          : <AnswerItem key={e.answer.messageId} a={e.answer} room={roomId} />)}
      </ol>
      <p className="typing" aria-live="polite">{typists.length ? `${typists.join(', ')} ${typists.length === 1 ? 'is' : 'are'} typing…` : '\u00a0'}</p>
      <Composer />
    </section>
  )
}

function MessageItem ({ m, me }: { m: Message, me: string }) {
  return (
    <li className={`msg ${m.role}${m.user === me ? ' mine' : ''}`} data-id={m.id}>
      <span className="author">{m.role === 'report' ? `report${m.from ? ` from ${m.from}` : ''}` : m.user}</span>
      <span className="text">{m.text}</span>
      {m.pending && <span className="note">sending…</span>}
      {m.failed && <span className="note failed">not confirmed: {m.failed}</span>}
    </li>
  )
}

function AnswerItem ({ a, room }: { a: Answer, room: string }) {
  const controller = useController()
  const streaming = a.text === null
  return (
    <li className="msg assistant" data-message-id={a.messageId} data-state={streaming ? 'streaming' : a.finishReason ?? 'done'}>
      <span className="author">assistant{a.finishReason === 'stopped' ? ' (stopped)' : ''}</span>
      <span className="text">{answerText(a)}{streaming && <span className="caret" aria-hidden="true" />}</span>
      <button type="button" className="link" onClick={() => controller.showAnswer(room, a.messageId)}>Show in the display</button>
    </li>
  )
}
