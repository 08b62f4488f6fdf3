import type { ConnectionGate } from '../adapters/ws.js';

/**
 * Which browser origins may talk to the server: its own (what the page was served from), and
 * `allowed` (`https://chat.example`, or `*` for any). A request without `Origin` is not from a
 * browser page (apps, servers, stock Node clients) and passes.
 */
export type OriginPolicy = (origin: string | undefined, host: string | undefined) => boolean;

/** The policy of `allowed` origins besides the server's own (see `OriginPolicy`). */
export function originPolicy(allowed: readonly string[]): OriginPolicy {
  const list = new Set(allowed.map((origin) => origin.replace(/\/$/, '').toLowerCase()));
  return (rawOrigin, rawHost) => {
    const origin = rawOrigin?.toLowerCase();
    if (origin === undefined || list.has('*') || list.has(origin)) return true;
    const host = rawHost?.toLowerCase();
    return host !== undefined && (origin === `http://${host}` || origin === `https://${host}`);
  };
}

/**
 * A gate that lets browsers open WebSockets from the server's own origin and from
 * `allowed` only, refusing others with 403: without it, any web page a user visits could
 * talk to the server as that user's browser. For HTTP calls, see the server's `corsOrigins`.
 */
export function allowOrigins(allowed: readonly string[]): ConnectionGate {
  const allows = originPolicy(allowed);
  return (request) =>
    allows(request.origin, request.headers.host) ? undefined : { status: 403, reason: 'origin not allowed' };
}
