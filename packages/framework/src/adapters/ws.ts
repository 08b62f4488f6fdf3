import type { IncomingHttpHeaders, IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { TransportSocket } from '../core/connection.js';
import { AddressCounts } from './address-counts.js';

/** An upgrade request, as the gate sees it. */
export interface UpgradeRequest {
  readonly remoteAddress: string | undefined;
  /** The `Origin` header (browsers send it). */
  readonly origin: string | undefined;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

/**
 * Decides on a WebSocket upgrade before it costs anything: `undefined` lets it in; a status
 * refuses it over plain HTTP (503 when full, 403 for a foreign origin), a close code accepts
 * then closes it at once (1013 "try again later", 1008 "policy").
 */
export type ConnectionGate = (
  request: UpgradeRequest,
) =>
  | undefined
  | { readonly status: number; readonly reason: string }
  | { readonly closeCode: number; readonly reason: string };

/** What the host does with one accepted WebSocket. */
export interface WsConnectionHandlers {
  onText(text: string): void;
  onBinary(): void;
  /** Runs once, however the socket ended (close frame, error, heartbeat timeout). */
  onClose(code: number): void;
}

export interface WsAdapterOptions {
  /** URL path of the upgrade, e.g. `/trpc`. */
  path: string;
  /** Frames larger than this are refused (close code 1009). */
  maxPayloadBytes: number;
  /** The server pings every connection this often. */
  heartbeatIntervalMs: number;
  /** A connection that sent nothing, pongs included, for this long is terminated. */
  presenceTimeoutMs: number;
  /** A client that lets this much pile up unread is cut off (slow consumer). */
  maxBufferedBytes: number;
  /**
   * Unsent bytes of all clients together: beyond it the largest queues are cut off first
   * until the total is back under seven eighths of it. Without it, only each socket is bounded.
   */
  maxTotalBufferedBytes?: number;
  accept(socket: TransportSocket, req: IncomingMessage): WsConnectionHandlers;
  /** A client was cut off: `'socket'` for its own budget, `'total'` for the server's. */
  onSlowConsumer?(req: IncomingMessage, budget: 'socket' | 'total', bufferedBytes: number): void;
  gate?: ConnectionGate;
  /** Negotiate permessage-deflate with clients that offer it. */
  perMessageDeflate?: boolean;
  /** An upgrade was refused (a cap, the gate): why, and whose. */
  onRefused?(reason: string, req: IncomingMessage): void;
  /** Open WebSockets at most, in all and from one address: beyond, an upgrade is refused with 503 before it costs a socket. */
  caps?: { readonly total?: number; readonly perAddress?: number };
}

const AS_TEXT = { binary: false } as const;
const HEAD_FRAGMENT = { binary: false, fin: false } as const;
const BODY_FRAGMENT = { binary: false, fin: true } as const;

/** What a server's clients share: made once per server. */
interface ClientHost {
  readonly maxBufferedBytes: number;
  onSlowConsumer(this: void, req: IncomingMessage, budget: 'socket' | 'total', bufferedBytes: number): void;
  /** `bytes` more were queued: the server-wide budget is looked at when they may be over it. */
  queued(bytes: number): void;
  /** The socket ended: forget the client and tell the core. */
  closed(client: Client, code: number): void;
}

const CLIENT = Symbol('streampod.client');
type TaggedWebSocket = WebSocket & { [CLIENT]?: Client };

/**
 * One WebSocket, as the core sees it (`TransportSocket`) and as the heartbeat sweeps it.
 * Methods on a class and listeners shared by every socket: no closures per connection.
 */
class Client implements TransportSocket {
  lastHeardAt = Date.now();
  corked = false;
  handlers: WsConnectionHandlers | undefined;

  constructor(
    readonly ws: WebSocket,
    readonly req: IncomingMessage,
    readonly host: ClientHost,
  ) {}

  /** Open, and not over its own budget (else it is cut off here). */
  #admits(): boolean {
    const { ws } = this;
    if (ws.readyState !== ws.OPEN) return false;
    if (ws.bufferedAmount <= this.host.maxBufferedBytes) return true;
    // What waits for the end of the turn is not the reader's fault: the kernel gets it first.
    if (this.corked) {
      uncorkAll();
      if (ws.bufferedAmount <= this.host.maxBufferedBytes) return true;
    }
    this.host.onSlowConsumer(this.req, 'socket', ws.bufferedAmount);
    ws.terminate();
    return false;
  }

  send(frame: string | Uint8Array): void {
    if (!this.#admits()) return;
    const { ws } = this;
    if (!this.corked) cork(this);
    // Bytes go out as a text frame too: they are an event's frame, encoded once for all.
    ws.send(frame, AS_TEXT);
    // A string's length undercounts non-ASCII text; the sweep corrects it with real figures.
    const bytes = typeof frame === 'string' ? frame.length : frame.byteLength;
    this.host.queued(bytes);
    if ((corkedBytes += bytes) > MAX_CORKED_BYTES) uncorkAll();
  }

  sendParts(head: string, body: Uint8Array): void {
    if (!this.#admits()) return;
    const { ws } = this;
    if (!this.corked) cork(this);
    // Two fragments of one message, back to back (nothing can come between them): the body is
    // the same bytes for every socket, so a thousand slow readers queue one copy of it.
    ws.send(head, HEAD_FRAGMENT);
    ws.send(body, BODY_FRAGMENT);
    const bytes = head.length + body.byteLength;
    this.host.queued(bytes);
    if ((corkedBytes += bytes) > MAX_CORKED_BYTES) uncorkAll();
  }

  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }

  get isOpen(): boolean {
    return this.ws.readyState === this.ws.OPEN;
  }

  get bufferedBytes(): number {
    return this.ws.bufferedAmount;
  }
}

/** Sockets corked in this turn of the event loop, and what they were sent meanwhile. */
let corked: Client[] = [];
let corkedBytes = 0;
/** Past this, corked sockets are let go at once: a huge fan-out must not sit in memory for a turn. */
const MAX_CORKED_BYTES = 16 * 1024 * 1024;

/**
 * Holds what a socket is sent until the end of this turn of the event loop, so frames sent
 * in one turn (messages stored by one group commit, a burst of replies) leave in one write
 * instead of a system call each: the system call is most of what a delivery costs.
 */
function cork(client: Client): void {
  client.corked = true;
  client.req.socket.cork();
  if (corked.push(client) === 1) setImmediate(uncorkAll);
}

/** Hands everything corked to the kernel. */
function uncorkAll(): void {
  const clients = corked;
  corked = [];
  corkedBytes = 0;
  for (const client of clients) {
    client.corked = false;
    client.req.socket.uncork();
  }
}

function onMessage(this: TaggedWebSocket, data: RawData, isBinary: boolean): void {
  const client = this[CLIENT]!;
  client.lastHeardAt = Date.now();
  if (isBinary) client.handlers!.onBinary();
  else client.handlers!.onText(rawToString(data));
}

function onPong(this: TaggedWebSocket): void {
  this[CLIENT]!.lastHeardAt = Date.now();
}

function onClose(this: TaggedWebSocket, code: number): void {
  const client = this[CLIENT]!;
  client.host.closed(client, code);
}

/**
 * Without an error listener a malformed frame throws and takes the process down
 * (https://github.com/websockets/ws/issues/1354); ws closes the socket itself.
 */
function ignoreError(): void {}

/**
 * Serves WebSockets on `server` at `opts.path`. The only module that knows `ws`: the
 * core sees a `TransportSocket`. One timer sweeps all connections for heartbeats, so
 * liveness costs no timer per connection.
 */
export function attachWebSocketServer(server: Server, opts: WsAdapterOptions) {
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: opts.maxPayloadBytes,
    clientTracking: false,
    perMessageDeflate: opts.perMessageDeflate ?? false,
    // One frame per connection per turn of the event loop: a client that pipelines thousands
    // of calls takes its turn with everyone else instead of holding the loop for all of them,
    // and the frames it sends meanwhile wait in its own socket (TCP pushes back on it).
    allowSynchronousEvents: false,
  });
  const clients = new Set<Client>();
  /** Open sockets by remote address, for the per-address cap (made only when there is one). */
  const perAddress = opts.caps?.perAddress === undefined ? undefined : new AddressCounts();
  const emptyWaiters = new Set<() => void>();
  let accepting = true;

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (pathname !== opts.path || !accepting) {
      socket.end(`HTTP/1.1 ${accepting ? '404 Not Found' : '503 Service Unavailable'}\r\nConnection: close\r\n\r\n`);
      return;
    }
    const address = req.socket.remoteAddress ?? '';
    const full =
      clients.size >= (opts.caps?.total ?? Infinity)
        ? 'server full'
        : (perAddress?.of(address) ?? 0) >= (opts.caps?.perAddress ?? Infinity)
          ? 'too many connections from this address'
          : undefined;
    const verdict =
      full !== undefined
        ? { status: 503, reason: full }
        : opts.gate?.({
            remoteAddress: req.socket.remoteAddress,
            origin: req.headers.origin,
            url: req.url ?? '/',
            headers: req.headers,
          });
    if (verdict !== undefined) opts.onRefused?.(verdict.reason, req);
    if (verdict !== undefined && 'status' in verdict) {
      const body = `${verdict.reason}\n`;
      socket.end(
        `HTTP/1.1 ${verdict.status} ${verdict.reason.replace(/[\r\n]/g, ' ')}\r\nConnection: close\r\n` +
          `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (verdict !== undefined) ws.close(verdict.closeCode, verdict.reason);
      else onConnection(ws, req);
    });
  };
  server.on('upgrade', onUpgrade);

  /**
   * The server-wide budget. Summing every socket's queue costs a pass over all of them, so it
   * is done only once the bytes queued since the last pass could have crossed the budget:
   * what drained meanwhile is not known, so `unsentAtMost` over-estimates, never under. Just
   * under the budget, the next pass waits for a 64th of it more, so passes stay rare.
   */
  const totalBudget = opts.maxTotalBufferedBytes ?? Infinity;
  let unsentAtMost = 0;
  let sweepAbove = totalBudget;
  /** Bytes queued to open clients and not yet handed to the kernel: a pass over every socket. */
  const unsentBytes = () => {
    let total = 0;
    for (const client of clients) if (client.ws.readyState === client.ws.OPEN) total += client.ws.bufferedAmount;
    return total;
  };
  const sweepUnsent = () => {
    // Corked bytes are not a slow reader's: they go to the kernel before anyone is judged.
    uncorkAll();
    let total = unsentBytes();
    if (total > totalBudget) {
      const largestFirst = [...clients]
        .filter((client) => client.ws.readyState === client.ws.OPEN)
        .map((client) => ({ client, bytes: client.ws.bufferedAmount }))
        .sort((a, b) => b.bytes - a.bytes);
      const target = (totalBudget * 7) / 8;
      for (const { client, bytes } of largestFirst) {
        if (total <= target) break;
        opts.onSlowConsumer?.(client.req, 'total', bytes);
        client.ws.terminate();
        total -= bytes;
      }
    }
    unsentAtMost = total;
    sweepAbove = Math.max(totalBudget, total + totalBudget / 64);
  };

  const host: ClientHost = {
    maxBufferedBytes: opts.maxBufferedBytes,
    onSlowConsumer: (req, budget, bytes) => opts.onSlowConsumer?.(req, budget, bytes),
    queued(bytes) {
      unsentAtMost += bytes;
      if (unsentAtMost > sweepAbove) sweepUnsent();
    },
    closed(client, code) {
      clients.delete(client);
      perAddress?.remove(client.req.socket.remoteAddress ?? '');
      client.handlers?.onClose(code);
      if (clients.size === 0) for (const waiter of [...emptyWaiters]) waiter();
    },
  };

  function onConnection(ws: TaggedWebSocket, req: IncomingMessage) {
    const client = new Client(ws, req, host);
    ws[CLIENT] = client;
    clients.add(client);
    perAddress?.add(req.socket.remoteAddress ?? '');
    client.handlers = opts.accept(client, req);
    ws.on('message', onMessage);
    ws.on('pong', onPong);
    ws.on('error', ignoreError);
    ws.once('close', onClose);
  }

  const heartbeat = setInterval(() => {
    const deadline = Date.now() - opts.presenceTimeoutMs;
    for (const client of clients) {
      if (client.lastHeardAt <= deadline) client.ws.terminate();
      else if (client.ws.readyState === client.ws.OPEN) client.ws.ping();
    }
  }, opts.heartbeatIntervalMs);
  heartbeat.unref();

  return {
    get size(): number {
      return clients.size;
    },
    /** Bytes queued to all clients and not yet handed to the kernel (a pass over every socket). */
    unsentBytes,
    /** Refuses new upgrades (503) from now on. */
    stopAccepting(): void {
      accepting = false;
    },
    /** Sends every client a text frame (e.g. tRPC's reconnect notification). */
    broadcast(frame: string): void {
      for (const client of clients) if (client.ws.readyState === client.ws.OPEN) client.ws.send(frame);
    },
    /** Resolves once every client has gone, or after `ms`. */
    untilEmpty(ms: number): Promise<void> {
      if (clients.size === 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          emptyWaiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        emptyWaiters.add(done);
      });
    },
    /** Closes every socket, terminating those that do not finish the close handshake in `graceMs`. */
    async closeAll(code: number, reason: string, graceMs: number): Promise<void> {
      const closing = [...clients].map(
        (client) =>
          new Promise<void>((resolve) => {
            if (client.ws.readyState === client.ws.CLOSED) return resolve();
            client.ws.once('close', () => resolve());
            client.ws.close(code, reason);
            setTimeout(() => client.ws.terminate(), graceMs).unref();
          }),
      );
      await Promise.all(closing);
    },
    dispose(): void {
      clearInterval(heartbeat);
      server.off('upgrade', onUpgrade);
      wss.close();
    },
  };
}

export type WebSocketHost = ReturnType<typeof attachWebSocketServer>;

function rawToString(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
