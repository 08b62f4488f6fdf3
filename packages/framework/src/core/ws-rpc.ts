import {
  callTRPCProcedure,
  getTRPCErrorFromUnknown,
  getTRPCErrorShape,
  isTrackedEnvelope,
  transformTRPCResponse,
  TRPCError,
} from '@trpc/server';
import type { TRPCProcedureType } from '@trpc/server';
import { parseConnectionParamsFromUnknown } from '@trpc/server/http';
import { parseTRPCMessage } from '@trpc/server/rpc';
import type { TRPCClientOutgoingMessage, TRPCErrorShape, TRPCResponseMessage } from '@trpc/server/rpc';
import type { Connection, Credentials } from './connection.js';
import { OutgoingEvent, type Serializer } from './outgoing-event.js';
import type { RequestContext, StreampodRouter } from './router.js';
import type { StreamHandle, StreamSink } from './session.js';
import { isPushStream } from './server-stream.js';

type RequestId = number | string;
type Reply = { id: RequestId; jsonrpc: '2.0' | undefined };

/** What every frame of one subscription starts with. */
interface Wire {
  readonly reply: Reply;
  /** The start of every data frame: the request id. */
  readonly framePrefix: string;
}

/**
 * Stock clients number their requests from 1 on every connection, so most subscriptions of
 * a server share a few request ids: their `Wire` is made once (~100 bytes less per stream).
 */
const SHARED_WIRES = 1024;
const sharedWires: { plain: (Wire | undefined)[]; jsonrpc: (Wire | undefined)[] } = { plain: [], jsonrpc: [] };

function wireOf(reply: Reply): Wire {
  const make = (): Wire => ({
    reply: { id: reply.id, jsonrpc: reply.jsonrpc },
    framePrefix: `{"id":${JSON.stringify(reply.id)}${reply.jsonrpc === undefined ? '' : ',"jsonrpc":"2.0"'},"result":{"type":"data"`,
  });
  const { id } = reply;
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= SHARED_WIRES) return make();
  const wires = reply.jsonrpc === undefined ? sharedWires.plain : sharedWires.jsonrpc;
  return (wires[id] ??= make());
}

/**
 * A subscription while it opens, and an async iterable's for as long as it is iterated: what
 * the connection's map holds for it until a push stream has opened, when the stream's own
 * handle takes its place. An open push stream costs the connection that map entry and
 * nothing else: its events reach the connection keyed by its `Wire`.
 */
class Opening {
  stopped = false;
  /** Set once a push stream has opened. */
  handle: StreamHandle | undefined;
  /** The procedure's signal (`stopped` says the same). */
  readonly abort = new AbortController();
  /**
   * What the stream sends while it opens waits here, in order: `started` goes out once it
   * has opened, so a client that sees it knows the stream is live.
   */
  readonly held: (() => void)[] = [];

  /**
   * @param wire its request id, and the start of every data frame of it
   * @param done settles when setup is over (push stream) or iteration has ended (async iterable)
   */
  constructor(
    readonly wire: Wire,
    readonly done: Promise<void>,
  ) {}
}

/** How a stream is known to its connection: while opening, and once open. */
type SubscriptionKey = Opening | Wire;

/** What every connection of one server shares: made once per server, not per connection. */
export interface WsRpcHost {
  readonly router: StreampodRouter;
  /** Verifies `connectionParams.token`; null leaves the connection anonymous. */
  authenticate(this: void, token: string): Promise<Credentials | null>;
  /** Every error a client is sent, and failures around them, for logs and metrics. */
  onError?(this: void, error: TRPCError, path: string | undefined): void;
  /** A droppable event was not sent to a slow reader (for metrics). */
  onDropped?(this: void): void;
  /** An event was written to a subscriber (for metrics). */
  onDelivered?(this: void): void;
  /** What one connection may ask of the server at once (see `ConnectionLimits`). */
  readonly limits?: Partial<ConnectionLimits>;
  /**
   * A bigger frame is answered PAYLOAD_TOO_LARGE, request by request, and the socket stays
   * (the transport closes only above its own, harder limit).
   * @default no limit here
   */
  readonly maxFrameBytes?: number;
}

/** What one connection may ask of the server at once; beyond, a request gets `TOO_MANY_REQUESTS`, and the socket stays. */
export interface ConnectionLimits {
  /**
   * Queries and mutations running at once. A stock client sends every call of one tick
   * in one frame: all of them are served while under this.
   * @default 1_000
   */
  maxInFlight: number;
  /**
   * Subscriptions open at once.
   * @default 1_000
   */
  maxSubscriptions: number;
  /**
   * Unsent bytes above which events marked droppable (typing, presence) are not queued for
   * this client: a slow reader loses those first. (The transport cuts a reader off at its
   * own, higher limit.)
   * @default 1 MiB
   */
  dropAboveBytes: number;
}

const DEFAULT_LIMITS: ConnectionLimits = { maxInFlight: 1_000, maxSubscriptions: 1_000, dropAboveBytes: 1024 * 1024 };

/** A host's limits with the defaults filled in, once per host. */
const hostLimits = new WeakMap<WsRpcHost, ConnectionLimits>();
function limitsOf(host: WsRpcHost): ConnectionLimits {
  let limits = hostLimits.get(host);
  if (limits === undefined) hostLimits.set(host, (limits = { ...DEFAULT_LIMITS, ...host.limits }));
  return limits;
}

const READY = Promise.resolve();
const NOOP = () => undefined;

/**
 * tRPC v11's WebSocket protocol for one connection, transport-agnostic: frames in
 * through `handleFrame`, frames out through `connection.socket`. Compatible with the stock
 * `wsLink`; unlike tRPC's own adapter, a push stream is a map entry that writes
 * pre-serialized frames, not a generator per subscriber. It is the sink of all of its
 * connection's push streams.
 */
export class WsRpc implements StreamSink<SubscriptionKey> {
  readonly #host: WsRpcHost;
  readonly #connection: Connection;
  readonly #limits: ConnectionLimits;
  readonly #subscriptions = new Map<RequestId, Opening | StreamHandle>();
  #inFlight = 0;
  #lastRequestAt = Date.now();
  /** Droppable events not sent to this slow client. */
  #dropped = 0;
  readonly #ctx: RequestContext;
  /** How event values become JSON: the router's output transformer. */
  readonly #serializer: Serializer;
  /** The router's config, typed as tRPC's helpers take it. */
  readonly #config: Parameters<typeof transformTRPCResponse>[0];
  /**
   * Let go of once settled (the shared READY stands in): a promise and its resolver kept for
   * a socket's life are ~150 bytes.
   */
  #ready: Promise<void>;
  #resolveReady: () => void = NOOP;
  #awaitingParams: boolean;
  /** The socket is gone or the server is stopping: no new streams, no `stopped` frames. */
  #closed = false;

  /** @param expectConnectionParams the client announced `?connectionParams=1`: its first frame carries them */
  constructor(host: WsRpcHost, connection: Connection, expectConnectionParams: boolean) {
    this.#host = host;
    this.#connection = connection;
    this.#limits = limitsOf(host);
    this.#ctx = { connection };
    this.#config = host.router._def._config as Parameters<typeof transformTRPCResponse>[0];
    this.#serializer = this.#config.transformer.output;
    this.#awaitingParams = expectConnectionParams;
    this.#ready = expectConnectionParams ? new Promise<void>((resolve) => (this.#resolveReady = resolve)) : READY;
  }

  #markReady(): void {
    this.#resolveReady();
    this.#resolveReady = NOOP;
    this.#ready = READY;
  }

  /** Resolves once the connection's credentials are known (never rejects). */
  get ready(): Promise<void> {
    return this.#ready;
  }

  get subscriptionCount(): number {
    return this.#subscriptions.size;
  }

  /** When the client last asked for something (a call or a subscription; keep-alive pings do not count), ms since the epoch. */
  get lastRequestAt(): number {
    return this.#lastRequestAt;
  }

  /** Droppable events this connection was too slow to be sent. */
  get droppedEvents(): number {
    return this.#dropped;
  }

  /** Handles one text frame from the client. */
  handleFrame(text: string): void {
    if (text === 'PING') {
      this.#send('PONG');
      return;
    }
    if (text === 'PONG') return;
    // UTF-8 is at most 3 bytes per UTF-16 unit: most frames need no counting at all.
    const max = this.#host.maxFrameBytes;
    if (max !== undefined && text.length * 3 > max && Buffer.byteLength(text) > max) {
      this.#refuseLargeFrame(text, max);
      return;
    }
    if (this.#awaitingParams) {
      this.#awaitingParams = false;
      void this.#readConnectionParams(text).finally(() => this.#markReady());
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (cause) {
      this.#respondError({ reply: null, cause: parseError(cause) });
      return;
    }
    const list: unknown[] = Array.isArray(json) ? json : [json];
    // Each request of a batch stands alone: one bad request does not leave the others unanswered.
    for (const raw of list) {
      let message: TRPCClientOutgoingMessage;
      try {
        message = parseTRPCMessage(raw, this.#config.transformer);
      } catch (cause) {
        this.#respondError({ reply: replyOf(raw), cause: parseError(cause) });
        continue;
      }
      this.#handleRequest(message).catch((cause: unknown) => this.#report(cause));
    }
  }

  /** Binary frames are not part of the protocol: say so, and keep the connection. */
  handleBinary(): void {
    this.#respondError({
      reply: null,
      cause: new TRPCError({
        code: 'UNSUPPORTED_MEDIA_TYPE',
        message: 'binary frames are not supported: send JSON text frames',
      }),
    });
  }

  /**
   * The socket is gone, or the server is stopping: ends every subscription, waiting for
   * those still being set up, and resolves once every close hook has run. Calls that still
   * arrive on an open socket are answered; new subscriptions are refused.
   */
  async close(): Promise<void> {
    this.#closed = true;
    const subs = [...this.#subscriptions.values()];
    this.#subscriptions.clear();
    const results = await Promise.allSettled(subs.map((sub) => this.#stopSubscription(sub)));
    for (const result of results) if (result.status === 'rejected') this.#report(result.reason);
  }

  async #readConnectionParams(text: string): Promise<void> {
    let token: string | undefined;
    try {
      const msg: unknown = JSON.parse(text);
      if (typeof msg !== 'object' || msg === null || (msg as { method?: unknown }).method !== 'connectionParams') {
        throw new Error('the first frame must be the connectionParams message');
      }
      const params = parseConnectionParamsFromUnknown((msg as { data?: unknown }).data);
      token = params?.['token'];
    } catch (cause) {
      this.#respondError({ reply: null, cause: parseError(cause) });
      this.#connection.socket?.close(1008, 'malformed connectionParams');
      return;
    }
    if (token === undefined || token === '') return;
    try {
      this.#connection.credentials = await this.#host.authenticate(token);
    } catch (cause) {
      // A verifier that fails (not one that says no) leaves the connection anonymous.
      this.#report(cause);
    }
  }

  async #handleRequest(msg: TRPCClientOutgoingMessage): Promise<void> {
    this.#lastRequestAt = Date.now();
    const { id, jsonrpc } = msg;
    if (id === null) {
      this.#respondError({ reply: null, cause: new TRPCError({ code: 'BAD_REQUEST', message: '`id` is required' }) });
      return;
    }
    if (msg.method === 'subscription.stop') {
      const sub = this.#subscriptions.get(id);
      if (sub !== undefined) await this.#stopSubscription(sub);
      return;
    }
    const { path, lastEventId } = msg.params;
    let { input } = msg.params;
    // Same as tRPC's adapter: a resuming client's lastEventId joins the input.
    if (lastEventId !== undefined) {
      input = typeof input === 'object' && input !== null ? { ...input, lastEventId } : { lastEventId };
    }
    const type = msg.method;
    const reply = { id, jsonrpc };
    if (type === 'subscription') {
      await this.#subscribe(reply, path, input);
      return;
    }
    if (this.#inFlight >= this.#limits.maxInFlight) {
      const cause = new TRPCError({
        code: 'TOO_MANY_REQUESTS',
        message: `at most ${this.#limits.maxInFlight} calls at once on one connection`,
      });
      this.#respondError({ reply, path, cause, type });
      return;
    }
    this.#inFlight++;
    try {
      const data = await this.#call({ path, input, type, signal: undefined });
      this.#respond({ ...reply, result: { type: 'data', data } });
    } catch (cause) {
      this.#respondError({ reply, path, cause, type, input });
    } finally {
      this.#inFlight--;
    }
  }

  async #subscribe(reply: Reply, path: string, input: unknown) {
    const { id } = reply;
    const refusal = this.#closed
      ? new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: 'the server is shutting down: reconnect' })
      : this.#subscriptions.has(id)
        ? new TRPCError({ code: 'BAD_REQUEST', message: `Duplicate id ${id}` })
        : this.#subscriptions.size >= this.#limits.maxSubscriptions
          ? new TRPCError({
              code: 'TOO_MANY_REQUESTS',
              message: `at most ${this.#limits.maxSubscriptions} subscriptions open at once on one connection`,
            })
          : null;
    if (refusal !== null) {
      this.#respondError({ reply, path, cause: refusal, type: 'subscription' });
      return;
    }
    let settle = () => {};
    const done = new Promise<void>((resolve) => (settle = resolve));
    const opening = new Opening(wireOf(reply), done);
    const { signal } = opening.abort;
    // Registered before any await, so a stop or a disconnect during setup cancels it.
    this.#subscriptions.set(id, opening);
    this.#connection.trackSetup(done);
    try {
      const result = await this.#call({ path, input, type: 'subscription', signal });
      if (isPushStream(result)) {
        if (signal.aborted) return this.#finishUnopened(opening);
        // Once it has opened, `opened` (below) puts its handle in the map and says `started`.
        const handle = await result.open<SubscriptionKey>(this, opening);
        // Stopped while opening: now that it is open, close it (its hooks run once).
        if (opening.stopped) await handle.stop();
        return;
      }
      if (!isAsyncIterable(result)) {
        throw new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: `${path} did not return an async iterable` });
      }
      if (!signal.aborted) this.#respond({ ...reply, result: { type: 'started' } });
      await this.#iterate(result, signal, opening.wire);
      this.#finishUnopened(opening);
    } catch (cause) {
      if (this.#subscriptions.get(id) === opening) this.#subscriptions.delete(id);
      if (!opening.stopped) this.#respondError({ reply, path, cause, type: 'subscription', input });
    } finally {
      settle();
    }
  }

  /** @internal (`StreamSink`) one event to a subscription's client. */
  send(key: SubscriptionKey, event: OutgoingEvent, eventId: string | undefined): void {
    if (key instanceof Opening) key.held.push(() => this.#sendEvent(key.wire, event, eventId));
    else this.#sendEvent(key, event, eventId);
  }

  /** @internal (`StreamSink`) a push stream has opened: from now on its handle is its entry, its wire its key. */
  opened(key: SubscriptionKey, handle: StreamHandle): SubscriptionKey {
    if (!(key instanceof Opening)) return key;
    key.handle = handle;
    const { reply } = key.wire;
    // Not if the connection closed meanwhile (`close` emptied the map): `#subscribe` closes it.
    if (this.#subscriptions.get(reply.id) === key) this.#subscriptions.set(reply.id, handle);
    this.#respond({ ...reply, result: { type: 'started' } });
    for (const action of key.held) {
      // Whoever sent it has moved on: an event that cannot go out (its value does not
      // serialize, say) is reported, and the stream and the rest of what waited go on.
      try {
        action();
      } catch (cause) {
        this.#report(cause);
      }
    }
    key.held.length = 0;
    return key.wire;
  }

  /** @internal (`StreamSink`) the stream ended: the client is told it stopped. */
  end(key: SubscriptionKey): void {
    // Ended before it opened: the client hears how opening went instead.
    if (key instanceof Opening) return;
    this.#forget(key);
    // After a shutdown the client must resubscribe elsewhere, so it is not told "stopped".
    if (!this.#closed) this.#respond({ ...key.reply, result: { type: 'stopped' } });
  }

  /** @internal (`StreamSink`) the stream failed: the client is told why. */
  error(key: SubscriptionKey, cause: unknown): void {
    if (key instanceof Opening) return;
    const handle = this.#forget(key);
    // The input is not kept for as long as a stream lives: the error formatter has no use for it.
    if (!this.#closed) this.#respondError({ reply: key.reply, path: handle?.path, cause, type: 'subscription' });
  }

  /**
   * Takes an open stream out of the map. Its request id's entry is its own: until the entry
   * goes, a subscription with the same id is refused as a duplicate.
   */
  #forget(wire: Wire): StreamHandle | undefined {
    const { id } = wire.reply;
    const entry = this.#subscriptions.get(id);
    if (entry === undefined || entry instanceof Opening) return undefined;
    this.#subscriptions.delete(id);
    return entry;
  }

  /** A subscription that ends with no open stream (an iterated one, or one stopped before it opened): the client is told it stopped. */
  #finishUnopened(opening: Opening): void {
    const { reply } = opening.wire;
    if (this.#subscriptions.get(reply.id) === opening) this.#subscriptions.delete(reply.id);
    if (!this.#closed) this.#respond({ ...reply, result: { type: 'stopped' } });
  }

  /** One event to a subscription's client: a slow reader loses what is worth less than its connection first. */
  #sendEvent(wire: Wire, event: OutgoingEvent, eventId: string | undefined): void {
    if (event.droppable && (this.#connection.socket?.bufferedBytes ?? 0) > this.#limits.dropAboveBytes) {
      this.#dropped++;
      this.#host.onDropped?.();
      return;
    }
    const frame = event.frameOrParts(this.#serializer, wire.framePrefix, eventId);
    if (frame instanceof Uint8Array) this.#send(frame);
    else this.#sendParts(frame.head, frame.body);
    this.#host.onDelivered?.();
  }

  /** Runs a procedure once the connection's credentials are known. */
  async #call(call: { path: string; input: unknown; type: TRPCProcedureType; signal: AbortSignal | undefined }) {
    await this.#ready;
    const result: unknown = await callTRPCProcedure({
      router: this.#host.router,
      path: call.path,
      getRawInput: () => Promise.resolve(call.input),
      ctx: this.#ctx,
      type: call.type,
      signal: call.signal,
      batchIndex: 0,
    });
    return result;
  }

  async #iterate(iterable: AsyncIterable<unknown>, signal: AbortSignal, wire: Wire): Promise<void> {
    const iterator = iterable[Symbol.asyncIterator]();
    // Resolves at once for a subscription stopped before it started.
    const aborted = new Promise<'abort'>((resolve) => {
      if (signal.aborted) resolve('abort');
      else signal.addEventListener('abort', () => resolve('abort'), { once: true });
    });
    try {
      for (;;) {
        const next = await Promise.race([iterator.next(), aborted]);
        if (next === 'abort' || next.done === true) break;
        const value: unknown = next.value;
        if (isTrackedEnvelope(value)) this.#sendEvent(wire, new OutgoingEvent(value[1]), String(value[0]));
        else this.#sendEvent(wire, new OutgoingEvent(value), undefined);
      }
    } finally {
      await iterator.return?.();
    }
  }

  async #stopSubscription(entry: Opening | StreamHandle): Promise<void> {
    if (!(entry instanceof Opening)) return entry.stop();
    entry.stopped = true;
    entry.abort.abort();
    await entry.done;
    await entry.handle?.stop();
  }

  #send(frame: string | Uint8Array): void {
    // A closed socket ignores what it is sent (`TransportSocket.send`).
    this.#connection.socket?.send(frame);
  }

  #sendParts(head: string, body: Uint8Array): void {
    const socket = this.#connection.socket;
    if (socket?.sendParts !== undefined) socket.sendParts(head, body);
    else socket?.send(head + Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  }

  #respond(message: TRPCResponseMessage): void {
    this.#send(JSON.stringify(transformTRPCResponse(this.#config, message)));
  }

  #report(cause: unknown): void {
    this.#host.onError?.(getTRPCErrorFromUnknown(cause), undefined);
  }

  /** Answers every request of an oversized frame with PAYLOAD_TOO_LARGE, running none. */
  #refuseLargeFrame(text: string, max: number): void {
    const cause = new TRPCError({
      code: 'PAYLOAD_TOO_LARGE',
      message: `frame: ${Buffer.byteLength(text)} bytes, over the ${max}-byte limit`,
    });
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      this.#respondError({ reply: null, cause });
      return;
    }
    if (this.#awaitingParams) {
      // Its credentials were too big to read: it stays anonymous.
      this.#awaitingParams = false;
      this.#markReady();
    }
    for (const raw of Array.isArray(json) ? json : [json]) this.#respondError({ reply: replyOf(raw), cause });
  }

  #respondError(failure: {
    reply: Reply | null;
    path?: string | undefined;
    cause: unknown;
    type?: TRPCProcedureType | 'unknown';
    input?: unknown;
  }): void {
    const { reply, path, input } = failure;
    const error = getTRPCErrorFromUnknown(failure.cause);
    this.#host.onError?.(error, path);
    const shape = getTRPCErrorShape({
      config: this.#config,
      type: failure.type ?? 'unknown',
      error,
      path,
      input,
      ctx: this.#ctx,
    }) as TRPCErrorShape;
    this.#respond({ id: reply?.id ?? null, jsonrpc: reply?.jsonrpc, error: shape });
  }
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/** The id (and JSON-RPC flag) of a raw request, to answer it even when it does not parse. */
function replyOf(raw: unknown): Reply | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const { id, jsonrpc } = raw as { id?: unknown; jsonrpc?: unknown };
  if (typeof id !== 'number' && typeof id !== 'string') return null;
  return { id, jsonrpc: jsonrpc === '2.0' ? '2.0' : undefined };
}

function parseError(cause: unknown): TRPCError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new TRPCError({ code: 'PARSE_ERROR', message: `malformed message: ${detail}`, cause });
}
