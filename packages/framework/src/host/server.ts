import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TRPCError, TRPCProcedureType } from '@trpc/server';
import { AddressCounts } from '../adapters/address-counts.js';
import { createHttpListener } from '../adapters/http.js';
import { attachWebSocketServer, type ConnectionGate, type WebSocketHost } from '../adapters/ws.js';
import { Connection, type Credentials, type TransportSocket } from '../core/connection.js';
import type { EndpointMap } from '../core/endpoint.js';
import { describeEndpoints, type ProcedureDescriptor } from '../core/procedures.js';
import {
  compileRouter,
  type BeforeCall,
  type createTrpc,
  type ErrorTranslator,
  type StreampodRouter,
} from '../core/router.js';
import type { AppContext } from '../core/session.js';
import { SetMap } from '../core/small-sets.js';
import { WsRpc, type ConnectionLimits, type WsRpcHost } from '../core/ws-rpc.js';
import { originPolicy } from './origins.js';
import { RepeatGate } from './repeat-gate.js';
import { createLogger, type Logger } from './logger.js';
import { Metrics } from './metrics.js';

/** Connection lifecycle hooks, for services that track connections (presence). */
export interface ServerHooks<TCtx extends AppContext = AppContext> {
  /** An authenticated or anonymous WebSocket connection is ready for calls. */
  onConnectionOpen?(connection: Connection<TCtx['user']>): void | Promise<void>;
  /** The connection is gone and its streams have closed. Runs once per opened connection. */
  onConnectionClose?(connection: Connection<TCtx['user']>): void | Promise<void>;
  /** A call passed authorization on `connection` (activity). */
  onCall?(connection: Connection<TCtx['user']>, path: string, type: TRPCProcedureType): void;
  /** The server begins a graceful stop: clients are about to be told to reconnect elsewhere. */
  onStopping?(): void;
}

export interface StreampodServerOptions<TCtx extends AppContext = AppContext> {
  endpoints: EndpointMap;
  /** What endpoints reach as `session.services`. */
  services: TCtx['services'];
  /**
   * Turns a bearer token (WebSocket `connectionParams.token`, HTTP `Authorization: Bearer`)
   * into the user; null leaves the caller anonymous (only `public` methods then).
   * @default nobody ever signs in
   */
  authenticate?: (token: string) => Promise<Credentials<TCtx['user']> | null>;
  /** @default a pino logger at `info` */
  logger?: Logger;
  hooks?: ServerHooks<TCtx>;
  /** Runs before every call, in order; any of them may refuse it (see `BeforeCall`). */
  beforeCall?: readonly BeforeCall[];
  /** Maps errors methods throw to ones callers may see (see `ErrorTranslator`). */
  translateError?: ErrorTranslator;
  /** Decides on each WebSocket upgrade before it costs anything (caps, origin): see `ConnectionGate`. */
  connectionGate?: ConnectionGate;
  /**
   * Browser origins besides the server's own whose pages may call over HTTP (CORS; `*`: any);
   * calls from other origins get 403. Unset: no CORS at all, so only the server's own pages can
   * read answers. `allowOrigins` does the same for WebSockets.
   */
  corsOrigins?: readonly string[];
  /** What one connection may ask at once (see `ConnectionLimits`). */
  connectionLimits?: Partial<ConnectionLimits>;
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
   * Unsent bytes a WebSocket may pile up before it is cut off as a slow consumer.
   * @default 8 MiB
   */
  maxBufferedBytes?: number;
  /**
   * Unsent bytes of all WebSockets together: past it, the sockets with the largest queues are
   * cut off first (as slow consumers) until the total is back under seven eighths of it, so
   * many slow readers cannot take the process' memory. Clients that resume by event id
   * (`chat.stream`'s `lastEventId`) lose nothing.
   * @default 256 MiB
   */
  maxTotalBufferedBytes?: number;
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
  /**
   * Compress WebSocket frames (permessage-deflate) for clients that offer it. It saves
   * bandwidth on slow links at a CPU cost per frame and per socket (a compressed frame is
   * no longer the same bytes for every subscriber), so it is off unless asked for.
   * @default false
   */
  perMessageDeflate?: boolean;
  /**
   * Open WebSockets at most: in all, from one address (both refused with 503 at the
   * upgrade, before they cost a socket) and of one user (closed with 1013 once signed in).
   * HTTP requests do not count, so `/healthz` and signing in over HTTP work at the cap.
   * @default no caps
   */
  connectionCaps?: {
    total?: number;
    perAddress?: number;
    perUser?: number;
    /**
     * Sockets from one address that are not WebSockets: HTTP connections, and requests or
     * upgrades still arriving. One more is answered 503 and closed before anything of it is
     * read, so one host cannot hold every descriptor with sockets that never finish a request.
     * A socket stops counting once it is a WebSocket (`perAddress` counts it then).
     */
    httpPerAddress?: number;
  };
  /**
   * A WebSocket that announced it signs in (`connectionParams`) but has not within this
   * long is closed (1008): it holds a socket and is nobody.
   * @default 10_000
   */
  authTimeoutMs?: number;
  /**
   * A WebSocket that stays anonymous (no token), with no stream open and no call for this
   * long, is closed (1008 `idle without signing in`): it holds a socket and is nobody. Its
   * client reconnects when it next needs the server. Checked a few times per period.
   * @default no deadline
   */
  anonymousIdleMs?: number;
  /**
   * An HTTP request (or upgrade) whose headers have not all arrived within this long is
   * dropped (408), and one not done within `httpRequestTimeoutMs` too: a slow sender
   * cannot hold sockets open.
   * @default 10_000
   */
  httpHeadersTimeoutMs?: number;
  /** @default 30_000 */
  httpRequestTimeoutMs?: number;
  /** Folder of a built web app, served at `/` when given. */
  staticDir?: string;
  /** More for `/healthz`: `degraded: true` says a dependency is unreachable while the server still serves. */
  health?: () => { degraded: boolean } & Record<string, unknown>;
}

const SETTLED = Promise.resolve();

interface LiveConnection {
  readonly connection: Connection;
  readonly rpc: WsRpc;
  /** Settles once `onConnectionOpen` has run (set when it starts). */
  opened: Promise<void> | undefined;
  closed: Promise<void> | undefined;
  /** The sign-in deadline, while one runs (a socket that goes before signing in stops it). */
  signingIn?: NodeJS.Timeout | undefined;
}

/** A transport's way into one connection: methods on one object, no closures per socket. */
class AcceptedSocket {
  constructor(
    readonly live: LiveConnection,
    readonly closeLive: (live: LiveConnection) => void,
  ) {}
  onText(text: string): void {
    this.live.rpc.handleFrame(text);
  }
  onBinary(): void {
    this.live.rpc.handleBinary();
  }
  onClose(): void {
    this.closeLive(this.live);
  }
}

/**
 * A streampod server: endpoints compiled into one tRPC router, served on one port over
 * HTTP (`/trpc`, `/healthz`, `/metrics`, the web app) and WebSocket (`/trpc`). Make one
 * with `sp.server(options)`.
 */
export class StreampodServer<TCtx extends AppContext = AppContext> {
  readonly procedures: readonly ProcedureDescriptor[];
  readonly router: StreampodRouter;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly #opts: StreampodServerOptions<TCtx>;
  readonly #live = new Map<Connection, LiveConnection>();
  /** Open WebSocket connections by the user they signed in as. */
  readonly #byUser = new SetMap<TCtx['user']['id'], LiveConnection>();
  readonly #closing = new Set<Promise<void>>();
  readonly #http: Server;
  readonly #ws: WebSocketHost;
  /** Refusals are logged once per caller and kind every 10 s; the rest are counted into the next line. */
  readonly #repeats = new RepeatGate(10_000);
  #state: 'idle' | 'listening' | 'stopping' | 'stopped' = 'idle';
  /** What every connection's protocol handler shares, made once. */
  readonly #rpcHost: WsRpcHost;
  readonly #closeLive = (live: LiveConnection) => void this.#closeConnection(live);
  #stopping: Promise<void> | undefined;
  /**
   * WebSocket connections by the step (of `EXPIRY_STEP_MS`) their token expires in, looked at
   * every step (only the steps that passed): no stream outlives its token by a second.
   */
  readonly #expiring = new Map<number, Set<LiveConnection>>();
  #expiryCheckedUpTo = Math.floor(Date.now() / EXPIRY_STEP_MS);
  #expiryTimer: NodeJS.Timeout | undefined;
  #idleSweep: NodeJS.Timeout | undefined;

  /** @internal use `sp.server(options)` */
  constructor(
    opts: StreampodServerOptions<TCtx> & {
      trpc: ReturnType<typeof createTrpc>;
      maxFrameBytes: number;
      hardFrameBytes: number;
    },
  ) {
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
      unsentBytes: () => this.#ws.unsentBytes(),
    });
    const hooks = opts.hooks ?? {};
    this.router = compileRouter({
      trpc: opts.trpc,
      procedures: this.procedures,
      runtime: {
        log: this.log,
        services: opts.services,
        renew: (connection, credentials) => this.#renew(connection, credentials),
      },
      beforeCall: opts.beforeCall ?? [],
      ...(opts.translateError === undefined ? {} : { translateError: opts.translateError }),
      observer: {
        onCall: (connection, path, type) => hooks.onCall?.(connection, path, type),
        onResult: ({ path, type, error, durationMs, connection }) => {
          this.metrics.called(path, type, durationMs);
          if (error === undefined) return;
          this.#recordError(error, path);
          if (error.code === 'INTERNAL_SERVER_ERROR') return;
          // Who was refused and why (never the input: it may hold a password or a message),
          // once per caller, path and code in a window: a flood of refusals logs a line, not a flood.
          const user = connection.owner?.id;
          this.#logRefusal(
            `${String(user ?? connection.remoteAddress)}|${path}|${error.code}`,
            { path, code: error.code, user, remote: connection.remoteAddress, conn: connection.id },
            `refused: ${error.message}`,
          );
        },
      },
    });
    this.#rpcHost = {
      router: this.router,
      authenticate: (token) => this.#authenticate(token),
      limits: opts.connectionLimits ?? {},
      maxFrameBytes: opts.maxFrameBytes,
      onDropped: () => this.metrics.droppedEvents.inc(),
      onDelivered: () => void this.metrics.delivered++,
      onError: (error, path) => {
        // Procedure errors are counted by the router; only protocol errors (no path) here.
        if (path === undefined) this.#recordError(error, path);
        this.#logError(error, path);
      },
    };
    // Timeouts are checked every second (Node's default: every 30 s), so they hold to the second.
    this.#http = createServer(
      {
        headersTimeout: opts.httpHeadersTimeoutMs ?? 10_000,
        requestTimeout: opts.httpRequestTimeoutMs ?? 30_000,
        connectionsCheckingInterval: 1_000,
      },
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
        maxBodyBytes: opts.maxFrameBytes,
        onError: (error, path) => this.#logError(error, path),
        onInternalError: (error) => this.log.error({ err: error }, 'HTTP request failed'),
        ...(opts.corsOrigins === undefined ? {} : { allowOrigin: originPolicy(opts.corsOrigins) }),
        onOriginRefused: (req) => this.#refused('origin not allowed', { remote: req.socket.remoteAddress }),
      }),
    );
    if (opts.connectionCaps?.httpPerAddress !== undefined) this.#capHttpSockets(opts.connectionCaps.httpPerAddress);
    const idleMs = opts.anonymousIdleMs;
    if (idleMs !== undefined) {
      // One sweep for every connection, a quarter of the period apart: a socket goes at most that much late.
      this.#idleSweep = setInterval(() => this.#closeIdleAnonymous(idleMs), Math.max(10, Math.min(5_000, idleMs / 4)));
      this.#idleSweep.unref();
    }
    this.#ws = attachWebSocketServer(this.#http, {
      path: '/trpc',
      maxPayloadBytes: opts.hardFrameBytes,
      heartbeatIntervalMs: opts.heartbeatIntervalMs ?? 10_000,
      presenceTimeoutMs: opts.presenceTimeoutMs ?? 30_000,
      maxBufferedBytes: opts.maxBufferedBytes ?? 8 * 1024 * 1024,
      maxTotalBufferedBytes: opts.maxTotalBufferedBytes ?? 256 * 1024 * 1024,
      ...(opts.connectionGate === undefined ? {} : { gate: opts.connectionGate }),
      perMessageDeflate: opts.perMessageDeflate ?? false,
      caps: {
        ...(opts.connectionCaps?.total === undefined ? {} : { total: opts.connectionCaps.total }),
        ...(opts.connectionCaps?.perAddress === undefined ? {} : { perAddress: opts.connectionCaps.perAddress }),
      },
      accept: (socket, req) => this.#accept(socket, req),
      onSlowConsumer: (req, budget, bufferedBytes) => {
        this.metrics.slowConsumers.inc({ budget });
        this.log.warn(
          { remote: req.socket.remoteAddress, budget, bufferedBytes },
          budget === 'socket' ? 'slow consumer cut off' : 'slow consumer cut off: server-wide unsent bytes over budget',
        );
      },
      onRefused: (reason, req) => this.#refused(reason, { remote: req.socket.remoteAddress }),
    });
  }

  /** Open WebSocket connections. */
  get connections(): IterableIterator<Connection<TCtx['user']>> {
    return this.#live.keys() as IterableIterator<Connection<TCtx['user']>>;
  }

  /** The open WebSocket connections of a user. */
  connectionsOf(userId: TCtx['user']['id']): Connection<TCtx['user']>[] {
    return [...this.#byUser.get(userId)].map((live) => live.connection as Connection<TCtx['user']>);
  }

  /**
   * Closes every WebSocket of a user with `code` (their token was revoked, say): their
   * streams end, their hooks run, and the client sees why.
   */
  disconnectUser(
    userId: TCtx['user']['id'],
    opts: {
      /** @default 4001 */
      code?: number;
      /** @default 'signed out' */
      reason?: string;
      /** Only the connections whose credentials pass (one token's, say). @default all */
      only?: (credentials: Credentials<TCtx['user']>) => boolean;
    } = {},
  ): number {
    const { code = 4001, reason = 'signed out', only = () => true } = opts;
    const lives = [...this.#byUser.get(userId)].filter((live) => {
      const credentials = live.connection.credentials as Credentials<TCtx['user']> | null;
      return credentials !== null && only(credentials);
    });
    for (const live of lives) {
      this.#refused(reason, { user: userId, conn: live.connection.id });
      live.connection.socket?.close(code, reason);
    }
    return lives.length;
  }

  /**
   * Starts listening; resolves with the bound port (use port 0 in tests), the address
   * actually bound (`http://0.0.0.0:3000`) and a URL to reach it from this machine.
   */
  async listen(opts: { port: number; host?: string }): Promise<{ port: number; url: string; address: string }> {
    await new Promise<void>((resolve, reject) => {
      this.#http.once('error', reject);
      this.#http.listen(opts.port, opts.host, () => {
        this.#http.off('error', reject);
        resolve();
      });
    });
    this.#state = 'listening';
    const bound = this.#http.address() as AddressInfo;
    const hostOf = (host: string) => (host.includes(':') ? `[${host}]` : host);
    const reachable = bound.address === '0.0.0.0' || bound.address === '::' ? '127.0.0.1' : bound.address;
    return {
      port: bound.port,
      url: `http://${hostOf(reachable)}:${bound.port}`,
      address: `http://${hostOf(bound.address)}:${bound.port}`,
    };
  }

  /**
   * Shuts down gracefully: refuses new work, tells clients to reconnect elsewhere, ends every
   * stream (its `streamClosed` runs), closes every socket. The app's resources stay open:
   * their owner closes them after this resolves.
   */
  close(): Promise<void> {
    this.#stopping ??= this.#shutdown();
    return this.#stopping;
  }

  async #shutdown(): Promise<void> {
    this.#state = 'stopping';
    this.#opts.hooks?.onStopping?.();
    this.#ws.stopAccepting();
    // tRPC clients reconnect on this notification instead of treating the close as an error:
    // behind a load balancer they open a socket on another node, move their subscriptions
    // there, then close this one; their users never look offline. Meanwhile the port stays
    // open, so the balancer's health check reads 503 and upgrades are refused with 503.
    this.#ws.broadcast(JSON.stringify({ id: null, method: 'reconnect' }));
    await this.#ws.untilEmpty(this.#opts.shutdownHandoffMs ?? 1_000);
    const httpClosed = new Promise<void>((resolve) => this.#http.close(() => resolve()));
    this.#http.closeIdleConnections();
    await Promise.all([...this.#live.values()].map((live) => this.#closeConnection(live)));
    await Promise.all(this.#closing);
    await this.#ws.closeAll(1001, 'server shutting down', this.#opts.shutdownGraceMs ?? 2_000);
    this.#ws.dispose();
    clearInterval(this.#expiryTimer);
    clearInterval(this.#idleSweep);
    this.#http.closeAllConnections();
    await httpClosed;
    this.#state = 'stopped';
    this.log.info('server stopped');
  }

  #accept(socket: TransportSocket, req: IncomingMessage) {
    const url = new URL(req.url ?? '/', 'http://localhost');
    return this.acceptSocket(socket, {
      remoteAddress: req.socket.remoteAddress,
      connectionParams: url.searchParams.get('connectionParams') === '1',
    });
  }

  /**
   * Serves one connection over a transport of your own, speaking tRPC's WebSocket protocol
   * exactly as `/trpc` does: feed it the client's frames, and it answers through `socket`.
   * Benchmarks use it to measure the server's own work without the kernel's sockets.
   */
  acceptSocket(
    socket: TransportSocket,
    opts: { remoteAddress?: string | undefined; connectionParams?: boolean } = {},
  ): { onText(text: string): void; onBinary(): void; onClose(): void } {
    const connection = new Connection<TCtx['user']>('ws', opts.remoteAddress, socket);
    const rpc = new WsRpc(this.#rpcHost, connection, opts.connectionParams ?? false);
    const live: LiveConnection = { connection, rpc, opened: undefined, closed: undefined };
    this.#live.set(connection, live);
    const signingIn = opts.connectionParams === true ? this.#signInDeadline(socket) : undefined;
    live.signingIn = signingIn;
    // The open hook waits for the credentials: they come in the client's first frame.
    void rpc.ready.then(() => {
      clearTimeout(signingIn);
      live.signingIn = undefined;
      if (live.closed !== undefined) return;
      const user = connection.owner;
      if (user !== null) {
        if (this.#byUser.count(user.id) >= (this.#opts.connectionCaps?.perUser ?? Infinity)) {
          this.#refused('too many connections for this user', { user: user.id, remote: connection.remoteAddress });
          socket.close(1013, 'too many connections for this user');
          return;
        }
        this.#byUser.add(user.id, live);
        this.#expireLater(live);
      }
      this.log.info({ conn: connection.id, user: user?.id, remote: connection.remoteAddress }, 'connected');
      const opened = Promise.resolve()
        .then(() => this.#opts.hooks?.onConnectionOpen?.(connection))
        .catch((error: unknown) => this.log.error({ err: error, conn: connection.id }, 'onConnectionOpen failed'))
        // Once settled, one shared promise stands in for it (not one kept per connection).
        .then(() => {
          if (live.opened === opened) live.opened = SETTLED;
        });
      live.opened = opened;
    });
    return new AcceptedSocket(live, this.#closeLive);
  }

  /**
   * Ends a connection's streams, then runs the close hook (only after an open hook, which
   * it waits for): once, whoever asks first.
   */
  #closeConnection(live: LiveConnection): Promise<void> {
    if (live.closed !== undefined) return live.closed;
    clearTimeout(live.signingIn);
    // Gone from the lists at once; shutdown still awaits its hooks through #closing.
    this.#live.delete(live.connection);
    const owner = live.connection.owner;
    if (owner !== null) {
      this.#byUser.delete(owner.id, live);
      this.#forgetExpiry(live);
    }
    const closed = (async () => {
      await live.rpc.close();
      if (live.opened === undefined) return;
      this.log.info({ conn: live.connection.id, user: owner?.id }, 'disconnected');
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

  /** Counts each address' sockets until they close or become WebSockets; past `cap`, a new one is refused at once. */
  #capHttpSockets(cap: number): void {
    const held = new AddressCounts();
    /** The address each counted socket is counted under (a closed socket may no longer tell it). */
    const counted = new WeakMap<Duplex, string>();
    const release = (socket: Duplex) => {
      const address = counted.get(socket);
      if (address === undefined) return;
      counted.delete(socket);
      held.remove(address);
    };
    // One listener for every socket rather than a closure each.
    function onClose(this: Duplex) {
      release(this);
    }
    this.#http.on('connection', (socket: Socket) => {
      const address = socket.remoteAddress ?? '';
      if (held.of(address) >= cap) {
        this.#refused('too many HTTP connections from this address', { remote: address });
        socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      held.add(address);
      counted.set(socket, address);
      socket.once('close', onClose);
    });
    // Registered before the WebSocket server's listener: a socket it accepts is released first.
    this.#http.on('upgrade', (_req: IncomingMessage, socket: Duplex) => release(socket));
  }

  /** Closes `socket` unless it signs in in time (the timer is cleared once it has). */
  #signInDeadline(socket: TransportSocket): NodeJS.Timeout {
    const timer = setTimeout(() => {
      this.#refused('sign-in timed out', {});
      socket.close(1008, 'sign-in timed out');
    }, this.#opts.authTimeoutMs ?? 10_000);
    timer.unref();
    return timer;
  }

  /** A WebSocket takes a new token of its user: it expires when that one does. */
  #renew(connection: Connection, credentials: Credentials): void {
    const live = this.#live.get(connection);
    if (live === undefined || live.closed !== undefined) return;
    this.#forgetExpiry(live);
    connection.credentials = credentials;
    this.#expireLater(live);
  }

  #forgetExpiry(live: LiveConnection): void {
    const step = expiryStep(live.connection.credentials);
    const bucket = this.#expiring.get(step);
    bucket?.delete(live);
    if (bucket?.size === 0) this.#expiring.delete(step);
  }

  #expireLater(live: LiveConnection): void {
    const step = expiryStep(live.connection.credentials);
    let bucket = this.#expiring.get(step);
    if (bucket === undefined) this.#expiring.set(step, (bucket = new Set()));
    bucket.add(live);
    if (this.#expiryTimer === undefined) {
      this.#expiryTimer = setInterval(() => this.#closeExpired(), EXPIRY_STEP_MS);
      this.#expiryTimer.unref();
    }
  }

  /** Closes anonymous WebSockets with nothing open that have asked for nothing for `idleMs`. */
  #closeIdleAnonymous(idleMs: number): void {
    const before = Date.now() - idleMs;
    for (const live of this.#live.values()) {
      const { connection, rpc } = live;
      if (live.opened === undefined || live.closed !== undefined) continue;
      if (connection.owner !== null || rpc.subscriptionCount > 0 || rpc.lastRequestAt > before) continue;
      this.#refused('idle without signing in', { remote: connection.remoteAddress, conn: connection.id });
      connection.socket?.close(1008, 'idle without signing in');
    }
  }

  /** Closes the connections whose token expired since the last look (4001: the client signs in again). */
  #closeExpired(): void {
    const now = Math.floor(Date.now() / EXPIRY_STEP_MS);
    for (let step = this.#expiryCheckedUpTo; step <= now; step++) {
      const bucket = this.#expiring.get(step);
      if (bucket === undefined) continue;
      this.#expiring.delete(step);
      for (const live of bucket) {
        this.#refused('token expired', { user: live.connection.owner?.id, conn: live.connection.id });
        live.connection.socket?.close(4001, 'token expired');
      }
    }
    this.#expiryCheckedUpTo = now + 1;
  }

  async #authenticate(token: string): Promise<Credentials<TCtx['user']> | null> {
    return this.#opts.authenticate === undefined ? null : this.#opts.authenticate(token);
  }

  async #httpConnection(req: IncomingMessage): Promise<Connection> {
    const connection = new Connection<TCtx['user']>('http', req.socket.remoteAddress, null);
    const header = req.headers.authorization;
    if (header !== undefined && header.startsWith('Bearer ')) {
      connection.credentials = await this.#authenticate(header.slice('Bearer '.length).trim());
    }
    return connection;
  }

  /** A connection refused or closed by policy: counted by reason and logged with whose it was. */
  #refused(
    reason: string,
    who: { user?: string | number | undefined; remote?: string | undefined; conn?: string },
  ): void {
    this.metrics.connectionsRefused.inc({ reason });
    this.#logRefusal(`${String(who.user ?? who.remote)}|${reason}`, who, `connection refused: ${reason}`);
  }

  /** Logs a refusal of `kind` once per window (see `RepeatGate`), saying how many like it were held back. */
  #logRefusal(kind: string, fields: object, message: string): void {
    const held = this.#repeats.pass(kind);
    if (held === undefined) return;
    if (held === 0) this.log.info(fields, message);
    else this.log.info({ ...fields, alsoRefused: held }, `${message} (and ${held} more like it before)`);
  }

  #recordError(error: TRPCError, path: string | undefined): void {
    this.metrics.errors.inc({ path: path ?? '', code: error.code });
  }

  #logError(error: TRPCError, path: string | undefined): void {
    if (error.code === 'INTERNAL_SERVER_ERROR') this.log.error({ err: error.cause ?? error, path }, error.message);
    else this.log.debug({ code: error.code, path }, error.message);
  }
}

/** How often tokens that ran out are looked for: a connection outlives its token by at most two steps. */
const EXPIRY_STEP_MS = 250;

/** The step a connection's token expires in (rounded up: never closed early). */
function expiryStep(credentials: Credentials | null): number {
  return credentials === null ? 0 : Math.ceil(credentials.expiresAt / EXPIRY_STEP_MS);
}
