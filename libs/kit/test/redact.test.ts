import { test } from 'tap'
import { redactUrl } from '../src/index.js'

test('tokens in query strings never reach the logs', async (t) => {
  t.equal(redactUrl('/ws?token=eyJhbGci.x.y&room=main'), '/ws?token=[redacted]&room=main')
  t.equal(redactUrl('/x?a=1&api_key=sk-123'), '/x?a=1&api_key=[redacted]')
  t.equal(redactUrl('/plain'), '/plain')
})
