import { createRequire } from 'node:module';

/**
 * The WebSocket class on Node: the global one where there is one (Node 22+), else the `ws`
 * package (Node 20), an optional peer dependency loaded only here.
 */
export function loadWebSocket(): typeof globalThis.WebSocket {
  if (typeof globalThis.WebSocket === 'function') return globalThis.WebSocket;
  try {
    const ws = createRequire(import.meta.url)('ws') as { WebSocket: typeof globalThis.WebSocket };
    return ws.WebSocket;
  } catch {
    throw new Error(
      'streampod: this Node has no global WebSocket (Node 20): install the `ws` package (npm install ws), ' +
        'or pass a WebSocket class to the client',
    );
  }
}
