import { useState, type FormEvent } from 'react'
import type { MemoryScope } from '@skein/schemas'
import { useController } from '../app/controller-context'
import { useAppState } from '../app/store'

const COLLECTION_PATTERN = '[A-Za-z0-9](?:[A-Za-z0-9_\\-]{0,62}[A-Za-z0-9])?'

/** Search the conversation memory; add documents to a collection. Results go to the display. */
export function Memory () {
  const controller = useController()
  const room = useAppState((s) => s.currentRoom)
  const searching = useAppState((s) => s.busy.search === true)
  const adding = useAppState((s) => s.busy.documents === true)
  const collections = useAppState((s) => s.collections)
  const [q, setQ] = useState('')
  const [scope, setScope] = useState<MemoryScope>('main')
  const [collection, setCollection] = useState('')
  const [docs, setDocs] = useState('')

  const search = (e: FormEvent): void => {
    e.preventDefault()
    if (q.trim()) void controller.searchMemory({ q: q.trim(), scope, ...(scope === 'room' ? { id: room } : {}), k: 5 })
  }
  const add = async (e: FormEvent): Promise<void> => {
    e.preventDefault()
    if (collection.trim() && docs.trim() && await controller.addDocuments(collection.trim(), docs)) setDocs('')
  }

  return (
    <section className="panel" aria-labelledby="memory-title">
      <h2 id="memory-title">Memory</h2>
      <form onSubmit={search}>
        <label htmlFor="memory-q">Search memory</label>
        <input id="memory-q" type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder="what was said about…" />
        <label htmlFor="memory-scope">In</label>
        <div className="row">
          <select id="memory-scope" value={scope} onChange={(e) => setScope(e.target.value as MemoryScope)}>
            <option value="main">everything I may read</option>
            <option value="room">this room ({room})</option>
          </select>
          <button type="submit" disabled={searching || !q.trim()}>{searching ? 'Searching…' : 'Search'}</button>
        </div>
      </form>
      <form onSubmit={(e) => void add(e)}>
        <label htmlFor="memory-collection">Add to the collection</label>
        <input
          id="memory-collection" list="collections" value={collection} pattern={COLLECTION_PATTERN} title="Letters, digits, _ and -"
          onChange={(e) => setCollection(e.target.value)} onFocus={() => void controller.loadCollections()} placeholder="field-notes"
        />
        <datalist id="collections">{collections.map((c) => <option key={c} value={c} />)}</datalist>
        <label htmlFor="memory-docs">Documents <span className="muted">(one per paragraph)</span></label>
        <textarea id="memory-docs" rows={3} value={docs} onChange={(e) => setDocs(e.target.value)} />
        <button type="submit" disabled={adding || !collection.trim() || !docs.trim()}>{adding ? 'Adding…' : 'Add to memory'}</button>
      </form>
    </section>
  )
}
