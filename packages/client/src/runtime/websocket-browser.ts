/** The WebSocket class in browsers, Deno, Bun and workers: the global one. */
export function loadWebSocket(): typeof globalThis.WebSocket {
  if (typeof globalThis.WebSocket === 'function') return globalThis.WebSocket;
  throw new Error('streampod: this runtime has no global WebSocket: pass a WebSocket class to the client');
}
