import { useState, type FormEvent } from 'react'
import { useController } from '../app/controller-context'
import { useAppState } from '../app/store'
import { MAIN } from '../app/state'

const LABEL: Record<string, string> = {
  open: 'open', planning: 'planning', running: 'running', waiting: 'running', completed: 'done', failed: 'failed', cancelled: 'cancelled'
}
const RUNNING = new Set(['planning', 'running', 'waiting'])

/** Give the assistant a task, and the live tree of the main thread: tasks, their steps, each with its status. */
export function Tasks () {
  const controller = useController()
  const busy = useAppState((s) => s.busy.create_task === true)
  const tasks = useAppState((s) => s.threads[MAIN]?.children.filter((id) => s.threads[id]?.kind === 'task'), sameIds)
  const [task, setTask] = useState('')
  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault()
    if (task.trim() && await controller.createTask(task.trim())) setTask('')
  }
  return (
    <section className="panel" aria-labelledby="tasks-title">
      <h2 id="tasks-title">Tasks</h2>
      <form onSubmit={(e) => void submit(e)}>
        <label htmlFor="task-text">Give the assistant a task</label>
        <textarea id="task-text" rows={3} value={task} onChange={(e) => setTask(e.target.value)} placeholder={'1. Research owls\n2. Research hawks\n3. Compare the results'} />
        <button type="submit" disabled={busy || !task.trim()}>{busy ? 'Starting…' : 'Start task'}</button>
      </form>
      <div className="tree" aria-label="The main thread and its tasks">
        <p className="tree-root"><button type="button" className="link" onClick={() => controller.openThread(MAIN)}>Main thread</button></p>
        {tasks?.length
          ? <ul>{[...tasks].reverse().map((id) => <Node key={id} id={id} />)}</ul>
          : <p className="muted">No tasks yet.</p>}
      </div>
    </section>
  )
}

const sameIds = (a: string[] | undefined, b: string[] | undefined): boolean =>
  a === b || (!!a && !!b && a.length === b.length && a.every((x, i) => x === b[i]))

function Node ({ id }: { id: string }) {
  const controller = useController()
  const node = useAppState((s) => s.threads[id])
  const cancelling = useAppState((s) => s.busy[`cancel:${id}`] === true)
  if (!node) return null
  const label = LABEL[node.status] ?? node.status
  return (
    <li className="node" data-thread={id} data-kind={node.kind} data-status={label}>
      <div className="node-row">
        <span className={`status ${label}`}>{label}</span>
        <button type="button" className="link node-title" onClick={() => controller.openThread(id)} title={node.task}>
          {node.task.split('\n')[0]}
        </button>
        {RUNNING.has(node.status) && (
          <button type="button" className="link" disabled={cancelling} aria-label={`Cancel: ${node.task.split('\n')[0]}`} onClick={() => void controller.cancelThread(id)}>
            Cancel
          </button>
        )}
      </div>
      {node.children.length > 0 && <ul>{node.children.map((c) => <Node key={c} id={c} />)}</ul>}
    </li>
  )
}
