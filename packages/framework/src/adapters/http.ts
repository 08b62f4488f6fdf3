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
}

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
