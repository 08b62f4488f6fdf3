import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { createHTTPHandler } from '@trpc/server/adapters/standalone';
import type { TRPCError } from '@trpc/server';
import type { RequestContext, StreampodRouter } from '../core/router.js';
import { serveStatic } from './static-files.js';

export interface HttpAdapterOptions {
  router: StreampodRouter;
  /** Builds the context of one HTTP call (reads `Authorization: Bearer`). */
  createContext(req: IncomingMessage): Promise<RequestContext>;
  /** `GET /healthz`: status 200 when `ok`, 503 otherwise. */
  health(): { ok: boolean } & Record<string, unknown>;
  /** `GET /metrics`: Prometheus text. */
  metrics(): Promise<string>;
  /** Folder of the built web app, served at `/`. */
  staticDir: string | undefined;
  maxBodyBytes: number;
  onError(error: TRPCError, path: string | undefined): void;
  /** A failure outside tRPC (health, metrics, static files). */
  onInternalError(error: unknown): void;
  /**
   * Browser origins whose pages may call `/trpc` (CORS): others get 403. Without it, no CORS
   * headers are sent, so browsers let only the server's own pages read the answers.
   */
  allowOrigin?: (origin: string | undefined, host: string | undefined) => boolean;
  /** A call was refused for its origin. */
  onOriginRefused?: (req: IncomingMessage) => void;
}

const CORS_MAX_AGE_SECONDS = '600';

/** One request listener for everything HTTP on the port: tRPC at `/trpc`, health, metrics, the web app. */
export function createHttpListener(opts: HttpAdapterOptions): RequestListener {
  const trpc = createHTTPHandler({
    router: opts.router,
    basePath: '/trpc/',
    maxBodySize: opts.maxBodyBytes,
    allowMethodOverride: false,
    createContext: ({ req }) => opts.createContext(req),
    onError: ({ error, path }) => opts.onError(error, path),
  });

  return (req, res) => {
    const pathname = (req.url ?? '/').split('?', 1)[0] ?? '/';
    if (pathname === '/trpc' || pathname.startsWith('/trpc/')) {
      if (req.headers.accept?.includes('text/event-stream') === true) {
        // Streams live on the WebSocket, where heartbeats, limits and shutdown reach them.
        res.writeHead(405, { 'content-type': 'text/plain; charset=utf-8' });
        res.end('subscriptions are served over the WebSocket at /trpc\n');
        return;
      }
      if (opts.allowOrigin !== undefined && req.headers.origin !== undefined && !cors(opts.allowOrigin, req, res)) {
        opts.onOriginRefused?.(req);
        return;
      }
      if (req.method === 'OPTIONS' && res.hasHeader('access-control-allow-origin')) {
        res.writeHead(204).end();
        return;
      }
      trpc(req, res);
      return;
    }
    route(pathname, req, res).catch((error: unknown) => {
      opts.onInternalError(error);
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error\n');
    });
  };

  async function route(pathname: string, req: IncomingMessage, res: ServerResponse) {
    if (pathname === '/healthz') {
      const body = opts.health();
      res.writeHead(body.ok ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
      return;
    }
    if (pathname === '/metrics') {
      const text = await opts.metrics();
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(text);
      return;
    }
    if (opts.staticDir !== undefined && (await serveStatic(opts.staticDir, req, res))) return;
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('not found\n');
  }
}

/**
 * Answers CORS for a request with an `Origin`: the allowed one gets its origin echoed (and, for
 * a preflight, the methods and headers tRPC's clients use); another gets 403 and `false`.
 */
function cors(
  allowOrigin: NonNullable<HttpAdapterOptions['allowOrigin']>,
  req: IncomingMessage,
  res: ServerResponse,
): boolean {
  const origin = req.headers.origin!;
  if (!allowOrigin(origin, req.headers.host)) {
    res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8', vary: 'Origin' });
    res.end('origin not allowed\n');
    return false;
  }
  res.setHeader('access-control-allow-origin', origin);
  res.setHeader('vary', 'Origin');
  if (req.method === 'OPTIONS') {
    res.setHeader('access-control-allow-methods', 'GET, POST, OPTIONS');
    res.setHeader(
      'access-control-allow-headers',
      req.headers['access-control-request-headers'] ?? 'authorization, content-type',
    );
    res.setHeader('access-control-max-age', CORS_MAX_AGE_SECONDS);
  }
  return true;
}
