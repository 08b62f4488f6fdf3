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
import { OutgoingEvent } from './outgoing-event.js';
import type { RequestContext, StreampodRouter } from './router.js';
import { isPushStream, type StreamHandle } from './server-stream.js';

type RequestId = number | string;

interface Subscription {
  readonly abort: AbortController;
  handle: StreamHandle | undefined;
}

export interface WsRpcOptions {
  readonly router: StreampodRouter;
  readonly connection: Connection;
  /** The client announced `?connectionParams=1`: its first frame carries them. */
  readonly expectConnectionParams: boolean;
  /** Verifies `connectionParams.token`; null leaves the connection anonymous. */
  authenticate(token: string): Promise<Credentials | null>;
  /** Every error a client is sent, for logs and metrics. */
  onError?(error: TRPCError, path: string | undefined): void;
}

/**
 * tRPC v11's WebSocket protocol for one connection, transport-agnostic: frames in
 * through `handleFrame`, frames out through `connection.socket`. Compatible with the stock
 * `wsLink`; unlike tRPC's own adapter, an endpoint stream is a map entry that writes
 * pre-serialized frames, not a generator per subscriber.
 */
export class WsRpc {
  readonly #opts: WsRpcOptions;
  readonly #subscriptions = new Map<RequestId, Subscription>();
  readonly #ctx: RequestContext;
  /** The router's config, typed as tRPC's helpers take it. */
  readonly #config: Parameters<typeof transformTRPCResponse>[0];
  #awaitingParams: boolean;
  #ready: Promise<void>;
  #closed = false;

  constructor(opts: WsRpcOptions) {
    this.#opts = opts;
    this.#ctx = { connection: opts.connection };
    this.#config = opts.router._def._config as Parameters<typeof transformTRPCResponse>[0];
    this.#awaitingParams = opts.expectConnectionParams;
    this.#ready = Promise.resolve();
  }

  get subscriptionCount(): number {
    return this.#subscriptions.size;
  }

  /** Handles one text frame from the client. */
  handleFrame(text: string): void {
    if (text === 'PING') {
      this.#send('PONG');
      return;
    }
    if (text === 'PONG') return;
    if (this.#awaitingParams) {
      this.#awaitingParams = false;
      this.#ready = this.#readConnectionParams(text);
      return;
    }
    let messages: TRPCClientOutgoingMessage[];
    try {
      const json: unknown = JSON.parse(text);
      const list: unknown[] = Array.isArray(json) ? json : [json];
      messages = list.map((raw) => parseTRPCMessage(raw, this.#config.transformer));
    } catch (cause) {
      this.#respondError({
        reply: null,
        cause: new TRPCError({ code: 'PARSE_ERROR', message: describeParseError(cause), cause }),
      });
      return;
    }
    for (const message of messages) void this.#handleRequest(message);
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

  /** The socket is gone: ends every subscription (their `streamClosed` hooks run). */
  async close(): Promise<void> {
    this.#closed = true;
    const subs = [...this.#subscriptions.values()];
    this.#subscriptions.clear();
    await Promise.all(subs.map((sub) => this.#stopSubscription(sub)));
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
      this.#respondError({
        reply: null,
        cause: new TRPCError({ code: 'PARSE_ERROR', message: describeParseError(cause), cause }),
      });
      this.#opts.connection.socket?.close(1008, 'malformed connectionParams');
      return;
    }
    if (token !== undefined && token !== '') {
      this.#opts.connection.credentials = await this.#opts.authenticate(token);
    }
  }

  async #handleRequest(msg: TRPCClientOutgoingMessage): Promise<void> {
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
    try {
      const data = await this.#call({ path, input, type, signal: undefined });
      this.#respond({ ...reply, result: { type: 'data', data } });
    } catch (cause) {
      this.#respondError({ reply, path, cause, type, input });
    }
  }

  async #subscribe(reply: { id: RequestId; jsonrpc: '2.0' | undefined }, path: string, input: unknown) {
    const { id } = reply;
    if (this.#subscriptions.has(id)) {
      this.#respondError({ reply, path, cause: new TRPCError({ code: 'BAD_REQUEST', message: `Duplicate id ${id}` }) });
      return;
    }
    const sub: Subscription = { abort: new AbortController(), handle: undefined };
    // Registered before any await, so a stop or a disconnect during setup cancels it.
    this.#subscriptions.set(id, sub);
    let setupDone = () => {};
    this.#opts.connection.trackSetup(new Promise<void>((resolve) => (setupDone = resolve)));
    const framePrefix = `{"id":${JSON.stringify(id)}${reply.jsonrpc === undefined ? '' : ',"jsonrpc":"2.0"'},"result":{"type":"data"`;
    const sendEvent = (event: OutgoingEvent, eventId: string | undefined) => {
      this.#send(
        eventId === undefined
          ? `${framePrefix},"data":${event.untrackedData}}}`
          : `${framePrefix},"id":${JSON.stringify(eventId)},"data":${event.trackedData(eventId)}}}`,
      );
    };
    const finish = () => {
      if (this.#subscriptions.get(id) === sub) this.#subscriptions.delete(id);
      this.#respond({ ...reply, result: { type: 'stopped' } });
    };
    try {
      const result = await this.#call({ path, input, type: 'subscription', signal: sub.abort.signal });
      if (isPushStream(result)) {
        this.#respond({ ...reply, result: { type: 'started' } });
        sub.handle = await result.open({ send: sendEvent, end: finish });
        setupDone();
        // Stopped while opening: now that the stream is open, close it (hooks run once).
        if (sub.abort.signal.aborted) await sub.handle.close();
        return;
      }
      if (!isAsyncIterable(result)) {
        throw new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: `${path} did not return an async iterable` });
      }
      this.#respond({ ...reply, result: { type: 'started' } });
      setupDone();
      await this.#iterate(result, sub.abort.signal, sendEvent);
      finish();
    } catch (cause) {
      setupDone();
      if (this.#subscriptions.get(id) === sub) this.#subscriptions.delete(id);
      if (!sub.abort.signal.aborted) this.#respondError({ reply, path, cause, type: 'subscription', input });
    }
  }

  /** Runs a procedure once the connection's credentials are known. */
  async #call(call: { path: string; input: unknown; type: TRPCProcedureType; signal: AbortSignal | undefined }) {
    await this.#ready;
    const result: unknown = await callTRPCProcedure({
      router: this.#opts.router,
      path: call.path,
      getRawInput: () => Promise.resolve(call.input),
      ctx: this.#ctx,
      type: call.type,
      signal: call.signal,
      batchIndex: 0,
    });
    return result;
  }

  async #iterate(
    iterable: AsyncIterable<unknown>,
    signal: AbortSignal,
    send: (event: OutgoingEvent, eventId: string | undefined) => void,
  ): Promise<void> {
    const iterator = iterable[Symbol.asyncIterator]();
    const aborted = new Promise<'abort'>((resolve) => signal.addEventListener('abort', () => resolve('abort')));
    try {
      for (;;) {
        const next = await Promise.race([iterator.next(), aborted]);
        if (next === 'abort' || next.done === true) break;
        const value: unknown = next.value;
        if (isTrackedEnvelope(value)) send(new OutgoingEvent(value[1]), String(value[0]));
        else send(new OutgoingEvent(value), undefined);
      }
    } finally {
      await iterator.return?.();
    }
  }

  async #stopSubscription(sub: Subscription): Promise<void> {
    sub.abort.abort();
    await sub.handle?.close();
  }

  #send(frame: string): void {
    const socket = this.#opts.connection.socket;
    if (!this.#closed && socket !== null && socket.isOpen) socket.send(frame);
  }

  #respond(message: TRPCResponseMessage): void {
    this.#send(JSON.stringify(transformTRPCResponse(this.#config, message)));
  }

  #respondError(failure: {
    reply: { id: RequestId; jsonrpc: '2.0' | undefined } | null;
    path?: string | undefined;
    cause: unknown;
    type?: TRPCProcedureType | 'unknown';
    input?: unknown;
  }): void {
    const { reply, path, input } = failure;
    const error = getTRPCErrorFromUnknown(failure.cause);
    this.#opts.onError?.(error, path);
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

function describeParseError(cause: unknown): string {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return `malformed message: ${detail}`;
}
