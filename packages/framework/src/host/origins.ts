import type { ConnectionGate } from '../adapters/ws.js';

/**
 * A gate that lets browsers open WebSockets from the server's own origin and from
 * `allowed` (`https://chat.example`, or `*` for any) only, refusing others with 403:
 * without it, any web page a user visits could talk to the server as that user's browser.
 * Clients that send no `Origin` (apps, servers, stock Node clients) are not browsers and pass.
 */
export function allowOrigins(allowed: readonly string[]): ConnectionGate {
  const list = new Set(allowed.map((origin) => origin.replace(/\/$/, '').toLowerCase()));
  return (request) => {
    const origin = request.origin?.toLowerCase();
    if (origin === undefined || list.has('*') || list.has(origin)) return undefined;
    // The server's own origin: what the browser was served the page from.
    const host = request.headers.host?.toLowerCase();
    if (host !== undefined && (origin === `http://${host}` || origin === `https://${host}`)) return undefined;
    return { status: 403, reason: 'origin not allowed' };
  };
}
