import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { limits } from '@streampod/protocol';
import type { TRPCError } from '@trpc/server';
import type { TRPCProcedureType } from '@trpc/server';
import { createHttpListener } from './adapters/http.js';
import { attachWebSocketServer, type WebSocketHost } from './adapters/ws.js';
import { Connection, type TransportSocket } from './core/connection.js';
import type { EndpointMap } from './core/endpoint.js';
import { describeEndpoints, type ProcedureDescriptor } from './core/procedures.js';
import { compileRouter, type StreampodRouter } from './core/router.js';
import type { Services } from './core/services.js';
import { WsRpc } from './core/ws-rpc.js';
import type { Database } from './db/index.js';
import { createLogger, type Logger } from './observability/logger.js';
import { Metrics } from './observability/metrics.js';

/** Connection lifecycle hooks, for services that track connections (presence). */
export interface ServerHooks {
  /** An authenticated or anonymous WebSocket connection is ready for calls. */
  onConnectionOpen?(connection: Connection): void | Promise<void>;
  /** The connection is gone and its streams have closed. Runs once per opened connection. */
  onConnectionClose?(connection: Connection): void | Promise<void>;
  /** A call passed authorization on `connection` (activity). */
  onCall?(connection: Connection, path: string, type: TRPCProcedureType): void;
  /** The server begins a graceful stop: clients are about to be told to reconnect elsewhere. */
  onStopping?(): void;
}

export interface StreampodServerOptions {
  endpoints: EndpointMap;
  database: Database;
  services: Services;
  /** @default a pino logger at `info` */
  logger?: Logger;
  hooks?: ServerHooks;
  /**
   * How often the server pings each WebSocket.
   * @default 10_000
   */
  heartbeatIntervalMs?: number;
  /**
   * A WebSocket silent this long (no pong, no frame) is dead and terminated.
   * @default 30_000
   */
  presenceTimeoutMs?: number;
  /**
   * Largest WebSocket frame or HTTP body accepted, in bytes.
   * @default 1 MiB
   */
  maxFrameBytes?: number;
  /**
   * Unsent bytes a WebSocket may pile up before it is cut off as a slow consumer.
   * @default 8 MiB
   */
  maxBufferedBytes?: number;
  /**
   * How long shutdown waits for clients to finish the close handshake.
   * @default 2_000
   */
  shutdownGraceMs?: number;
  /**
   * After telling clients to reconnect elsewhere, shutdown waits this long for them to
   * leave by themselves (so their users never look offline) before closing what is left.
   * @default 1_000
   */
  shutdownHandoffMs?: number;
  /** Folder of the built web app, served at `/` when given. */
  staticDir?: string;
  /** More for `/healthz`: `degraded: true` says a dependency (Redis) is unreachable while the server still serves. */
  health?: () => { degraded: boolean } & Record<string, unknown>;
}

interface LiveConnection {
  readonly connection: Connection;
  readonly rpc: WsRpc;
  /** Settles once `onConnectionOpen` has run (set when it starts). */
  opened: Promise<void> | undefined;
  closed: Promise<void> | undefined;
}

/**
 * A streampod server: endpoints compiled into one tRPC router, served on one port over
 * HTTP (`/trpc`, `/healthz`, `/metrics`, the web app) and WebSocket (`/trpc`).
 */
export class StreampodServer {
  readonly procedures: readonly ProcedureDescriptor[];
  readonly router: StreampodRouter;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly #opts: StreampodServerOptions;
  readonly #live = new Map<Connection, LiveConnection>();
  readonly #closing = new Set<Promise<void>>();
  readonly #http: Server;
  readonly #ws: WebSocketHost;
  #state: 'idle' | 'listening' | 'stopping' | 'stopped' = 'idle';
  #stopping: Promise<void> | undefined;

  constructor(opts: StreampodServerOptions) {
    this.#opts = opts;
    this.log = opts.logger ?? createLogger();
    this.procedures = describeEndpoints(opts.endpoints);
    this.metrics = new Metrics({
      connections: () => this.#live.size,
      openStreams: () => {
        let n = 0;
        for (const live of this.#live.values()) n += live.rpc.subscriptionCount;
        return n;
      },
    });
    const hooks = opts.hooks ?? {};
    this.router = compileRouter(
      this.procedures,
      { db: opts.database.db, log: this.log, services: opts.services },
      {
        onCall: (connection, path, type) => hooks.onCall?.(connection, path, type),
        onResult: ({ path, type, error, durationMs }) => {
          this.metrics.calls.inc({ path, type });
          if (type !== 'subscription') this.metrics.callDuration.observe({ type }, durationMs / 1000);
          if (error !== undefined) this.#recordError(error, path);
        },
      },
    );
    const maxFrameBytes = opts.maxFrameBytes ?? limits.maxFrameBytes;
    this.#http = createServer(
      createHttpListener({
        router: this.router,
        createContext: async (req) => ({ connection: await this.#httpConnection(req) }),
        health: () => ({
          ok: this.#state === 'listening',
          connections: this.#live.size,
          ...(opts.health?.() ?? { degraded: false }),
        }),
        metrics: () => this.metrics.render(),
        staticDir: opts.staticDir,
        maxBodyBytes: maxFrameBytes,
        onError: (error, path) => this.#logError(error, path),
        onInternalError: (error) => this.log.error({ err: error }, 'HTTP request failed'),
      }),
    );
    this.#ws = attachWebSocketServer(this.#http, {
      path: '/trpc',
      maxPayloadBytes: maxFrameBytes,
      heartbeatIntervalMs: opts.heartbeatIntervalMs ?? 10_000,
      presenceTimeoutMs: opts.presenceTimeoutMs ?? 30_000,
      maxBufferedBytes: opts.maxBufferedBytes ?? 8 * 1024 * 1024,
      accept: (socket, req) => this.#accept(socket, req),
      onSlowConsumer: (req) => this.log.warn({ remote: req.socket.remoteAddress }, 'slow consumer cut off'),
    });
  }

  /** Open WebSocket connections. */
  get connections(): IterableIterator<Connection> {
    return this.#live.keys();
  }

  /** Starts listening; resolves with the bound port (use port 0 in tests). */
  async listen(opts: { port: number; host?: string }): Promise<{ port: number; url: string }> {
    await new Promise<void>((resolve, reject) => {
      this.#http.once('error', reject);
      this.#http.listen(opts.port, opts.host, () => {
        this.#http.off('error', reject);
        resolve();
      });
    });
    this.#state = 'listening';
    const { port } = this.#http.address() as AddressInfo;
    const host = opts.host === undefined || opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host;
    return { port, url: `http://${host}:${port}` };
  }

  /**
   * Shuts down gracefully: refuses new work, tells clients to reconnect elsewhere, ends every
   * stream (its `streamClosed` runs), closes every socket. The database stays open: its
   * owner closes it after this resolves.
   */
  close(): Promise<void> {
    this.#stopping ??= this.#shutdown();
    return this.#stopping;
  }

  async #shutdown(): Promise<void> {
    this.#state = 'stopping';
    this.#opts.hooks?.onStopping?.();
    this.#ws.stopAccepting();
    const httpClosed = new Promise<void>((resolve) => this.#http.close(() => resolve()));
    this.#http.closeIdleConnections();
    // tRPC clients reconnect on this notification instead of treating the close as an error:
    // behind a load balancer they open a socket on another node, move their subscriptions
    // there, then close this one; their users never look offline.
    this.#ws.broadcast(JSON.stringify({ id: null, method: 'reconnect' }));
    await this.#ws.untilEmpty(this.#opts.shutdownHandoffMs ?? 1_000);
    await Promise.all([...this.#live.values()].map((live) => this.#closeConnection(live)));
    await Promise.all(this.#closing);
    await this.#ws.closeAll(1001, 'server shutting down', this.#opts.shutdownGraceMs ?? 2_000);
    this.#ws.dispose();
    this.#http.closeAllConnections();
    await httpClosed;
    this.#state = 'stopped';
    this.log.info('server stopped');
  }

  #accept(socket: TransportSocket, req: IncomingMessage) {
    const connection = new Connection('ws', req.socket.remoteAddress, socket);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const rpc = new WsRpc({
      router: this.router,
      connection,
      expectConnectionParams: url.searchParams.get('connectionParams') === '1',
      authenticate: (token) => this.#opts.services.tokens.verify(token),
      onError: (error, path) => {
        // Procedure errors are counted by the router; only protocol errors (no path) here.
        if (path === undefined) this.#recordError(error, path);
        this.#logError(error, path);
      },
    });
    const live: LiveConnection = { connection, rpc, opened: undefined, closed: undefined };
    this.#live.set(connection, live);
    // The open hook waits for the credentials: they come in the client's first frame.
    void rpc.ready.then(() => {
      if (live.closed !== undefined) return;
      live.opened = Promise.resolve()
        .then(() => this.#opts.hooks?.onConnectionOpen?.(connection))
        .catch((error: unknown) => this.log.error({ err: error, conn: connection.id }, 'onConnectionOpen failed'));
    });
    return {
      onText: (text: string) => rpc.handleFrame(text),
      onBinary: () => rpc.handleBinary(),
      onClose: () => void this.#closeConnection(live),
    };
  }

  /**
   * Ends a connection's streams, then runs the close hook (only after an open hook, which
   * it waits for): once, whoever asks first.
   */
  #closeConnection(live: LiveConnection): Promise<void> {
    if (live.closed !== undefined) return live.closed;
    // Gone from the list at once; shutdown still awaits its hooks through #closing.
    this.#live.delete(live.connection);
    const closed = (async () => {
      await live.rpc.close();
      if (live.opened === undefined) return;
      await live.opened;
      try {
        await this.#opts.hooks?.onConnectionClose?.(live.connection);
      } catch (error) {
        this.log.error({ err: error, conn: live.connection.id }, 'onConnectionClose failed');
      }
    })();
    live.closed = closed;
    this.#closing.add(closed);
    void closed.finally(() => this.#closing.delete(closed));
    return closed;
  }

  async #httpConnection(req: IncomingMessage): Promise<Connection> {
    const connection = new Connection('http', req.socket.remoteAddress, null);
    const header = req.headers.authorization;
    if (header !== undefined && header.startsWith('Bearer ')) {
      connection.credentials = await this.#opts.services.tokens.verify(header.slice('Bearer '.length).trim());
    }
    return connection;
  }

  #recordError(error: TRPCError, path: string | undefined): void {
    this.metrics.errors.inc({ path: path ?? '', code: error.code });
  }

  #logError(error: TRPCError, path: string | undefined): void {
    if (error.code === 'INTERNAL_SERVER_ERROR') this.log.error({ err: error.cause ?? error, path }, error.message);
    else this.log.debug({ code: error.code, path }, error.message);
  }
}
