declare global {
  interface Window { SKEIN_CONFIG?: { funnelUrl?: string } }
}

/** The funnel's address: given by the server that serves the app, or the page's host on :5000. */
export const funnelUrl = window.SKEIN_CONFIG?.funnelUrl || `${location.protocol}//${location.hostname}:5000`
export const wsUrl = funnelUrl.replace(/^http/, 'ws') + '/ws'
