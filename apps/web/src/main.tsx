import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './App'
import { AppController } from './app/controller'
import { ControllerContext } from './app/controller-context'
import { Store, StoreContext } from './app/store'
import { funnelUrl } from './config'
import './styles.css'

const store = new Store()
const controller = new AppController(store, funnelUrl)
controller.boot()

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <StoreContext.Provider value={store}>
      <ControllerContext.Provider value={controller}>
        <App />
      </ControllerContext.Provider>
    </StoreContext.Provider>
  </StrictMode>
)
