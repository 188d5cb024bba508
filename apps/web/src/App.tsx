import { useAppState } from './app/store'
import { Display } from './components/Display'
import { Header } from './components/Header'
import { Memory } from './components/Memory'
import { Notices } from './components/Notices'
import { Room } from './components/Room'
import { Rooms } from './components/Rooms'
import { SignIn } from './components/SignIn'
import { Tasks } from './components/Tasks'

/** The page: the header, errors, then (signed in) the display and the room, with rooms, tasks and memory aside. */
export function App () {
  const signedIn = useAppState((s) => s.session !== null)
  return (
    <>
      {signedIn && <a className="skip" href="#composer-text">Skip to the message box</a>}
      <Header />
      <Notices />
      {signedIn
        ? (
          <div className="workspace">
            <main className="main-column">
              <Display />
              <Room />
            </main>
            <aside className="side-column" aria-label="Rooms, tasks and memory">
              <Rooms />
              <Tasks />
              <Memory />
            </aside>
          </div>
          )
        : <SignIn />}
    </>
  )
}
