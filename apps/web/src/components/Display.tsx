import { useLayoutEffect, useRef, type CSSProperties } from 'react'
import { useAppState } from '../app/store'
import { answerText, type AppState, type CurrentResponse, type MediaSlot } from '../app/state'

type Status = 'empty' | 'waiting' | 'streaming' | 'done' | 'stopped' | 'failed' | 'loading'

const STATUS_OF_THREAD: Record<string, string> = {
  open: 'open', planning: 'planning', running: 'running', waiting: 'running (its steps are under way)',
  completed: 'done', failed: 'failed', cancelled: 'cancelled'
}

/** What the display shows for the current response, read from the state (never from a component). */
function view (s: AppState, r: CurrentResponse | null): { status: Status, label: string, text: string } {
  if (!r) return { status: 'empty', label: '', text: 'Ask the assistant something, give it a task, or search memory: the response shows here.' }
  if (r.kind === 'answer') {
    const answer = r.room && r.messageId ? s.rooms[r.room]?.answers[r.messageId] : undefined
    const text = answer ? answerText(answer) : ''
    if (r.error && !answer) return { status: 'failed', label: `Failed: ${r.error}`, text }
    if (!answer) return { status: 'waiting', label: 'Waiting for the answer…', text }
    if (answer.text === null) return { status: 'streaming', label: 'Writing…', text }
    if (answer.finishReason === 'stopped') return { status: 'stopped', label: 'Stopped', text }
    if (answer.finishReason === 'error') return { status: 'failed', label: 'The model failed mid-answer', text }
    const usage = answer.completionTokens !== undefined ? ` · ${answer.completionTokens} tokens` : ''
    return { status: 'done', label: `Done${answer.model ? ` · ${answer.model}` : ''}${usage}`, text }
  }
  if (r.kind === 'thread' && r.thread) {
    const node = s.threads[r.thread]
    const messages = s.threadMessages[r.thread]
    const lines = (messages?.messages ?? []).map((m) => `${m.author}${m.role === 'user' || m.role === 'assistant' ? '' : ` (${m.role})`}: ${m.text}`)
    const text = lines.length ? lines.join('\n\n') : node?.result ?? (messages?.error ? '' : messages?.loading ? 'Loading its messages…' : 'No messages yet.')
    const status = node ? STATUS_OF_THREAD[node.status] ?? node.status : 'starting'
    return {
      status: messages?.error ? 'failed' : node && ['completed', 'failed', 'cancelled'].includes(node.status) ? 'done' : 'loading',
      label: messages?.error ? `Loading its messages failed: ${messages.error}` : `Thread ${r.thread} · ${status}`,
      text
    }
  }
  return { status: r.error ? 'failed' : 'done', label: r.error ?? '', text: r.text ?? '' }
}

/**
 * The display area: only the current response, at the full width it is given. Text first; beneath it the audio
 * controls; then the picture, full width. Each part keeps its place while it loads (no layout jumps).
 */
export function Display () {
  const response = useAppState((s) => s.response)
  const { status, label, text } = useAppState((s) => view(s, s.response), shallowView)
  const streaming = status === 'streaming' || status === 'waiting'
  // A long answer scrolls inside its box and the box follows it as it grows, unless the reader scrolled up.
  const textRef = useRef<HTMLDivElement>(null)
  const atBottom = useRef(true)
  useLayoutEffect(() => {
    const el = textRef.current
    if (el && atBottom.current) el.scrollTop = el.scrollHeight
  }, [text])
  useLayoutEffect(() => { atBottom.current = true }, [response?.id])
  return (
    <section className="display" aria-labelledby="display-title" data-status={status} data-kind={response?.kind ?? 'none'}>
      <div className="display-head">
        <h2 id="display-title" className="display-title">{response?.title ?? 'Response'}</h2>
        <p className={`display-status ${status}`} role="status">{label || '\u00a0'}</p>
      </div>
      <div
        className="display-text" ref={textRef} aria-busy={streaming} tabIndex={0} role="region" aria-label="Response text"
        onScroll={(e) => { const el = e.currentTarget; atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40 }}
      >
        {text}
        {streaming && <span className="caret" aria-hidden="true" />}
      </div>
      {response?.audio && <AudioSlot slot={response.audio} />}
      {response?.image && <ImageSlot slot={response.image} title={response.title} />}
    </section>
  )
}

function AudioSlot ({ slot }: { slot: MediaSlot }) {
  return (
    <div className="display-audio" data-state={slot.state}>
      {slot.state === 'ready'
        ? <audio controls preload="metadata" src={slot.media.url} aria-label="The answer, read aloud" />
        : <p>{slot.state === 'pending' ? 'The answer will be read aloud when it is complete…' : `Reading aloud failed: ${slot.error}`}</p>}
    </div>
  )
}

function ImageSlot ({ slot, title }: { slot: MediaSlot, title: string }) {
  const w = slot.state === 'ready' ? slot.media.width : slot.state === 'pending' ? slot.width : undefined
  const h = slot.state === 'ready' ? slot.media.height : slot.state === 'pending' ? slot.height : undefined
  const style: CSSProperties | undefined = w && h ? { aspectRatio: `${w} / ${h}` } : undefined
  return (
    <figure className="display-image" data-state={slot.state} style={slot.state === 'failed' ? undefined : style}>
      {slot.state === 'ready'
        ? <img src={slot.media.url} alt={`A picture of: ${title}`} width={w} height={h} />
        : <figcaption>{slot.state === 'pending' ? 'Drawing the picture…' : `The picture failed: ${slot.error}`}</figcaption>}
    </figure>
  )
}

function shallowView (a: ReturnType<typeof view>, b: ReturnType<typeof view>): boolean {
  return a.status === b.status && a.label === b.label && a.text === b.text
}
