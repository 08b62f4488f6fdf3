import {
  createTRPCUntypedClient,
  createWSClient,
  httpBatchLink,
  splitLink,
  wsLink,
  type TRPCUntypedClient,
} from '@trpc/client';
import type { AnyTRPCRouter } from '@trpc/server';
import { SuperJSON } from 'superjson';
import { loadWebSocket } from '#websocket';
import { jitteredBackoff, type BackoffOptions } from './backoff.js';
import { PendingCallsFullError } from './errors.js';
import type { CallProcedure, StreamProcedure } from './procedure-types.js';
import { Subscription, type SubscriptionTransport } from './subscription.js';

type MaybePromise<T> = T | Promise<T>;

/** The method a procedure becomes on the client. */
export type ClientMethod<TProc> =
  TProc extends CallProcedure<infer _TKind, infer TInput, infer TOutput>
    ? [TInput] extends [void]
      ? () => Promise<TOutput>
      : undefined extends TInput
        ? (input?: TInput) => Promise<TOutput>
        : (input: TInput) => Promise<TOutput>
    : TProc extends StreamProcedure<infer TInput, infer TEvent, infer _TTracked>
      ? [TInput] extends [void]
        ? () => Subscription<TEvent>
        : undefined extends TInput
          ? (input?: TInput) => Subscription<TEvent>
          : (input: TInput) => Subscription<TEvent>
      : never;

/** The endpoints of a generated API description, as client methods. */
export type ApiMethods<TApi> = {
  readonly [TEndpoint in keyof TApi]: {
    readonly [TMethod in keyof TApi[TEndpoint]]: ClientMethod<TApi[TEndpoint][TMethod]>;
  };
};

/**
 * Where the client's connection stands: `connecting` before its first attempt ended,
 * `connected`, `reconnecting` after it dropped or a first attempt failed (it keeps trying
 * by itself), `closed` after `close()`.
 */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** Connection control, on every client. */
export interface ClientConnection {
  /**
   * Opens a new connection, re-reading the token (e.g. after signing in); open
   * subscriptions move to it and resume where they were.
   */
  reconnect(): void;
  /** Closes the connection and stops every subscription. */
  close(): Promise<void>;
  /** Called with `true` when the WebSocket opens and `false` when it drops. */
  onConnectionChange(listener: (connected: boolean) => void): () => void;
  /** See `ConnectionState`. */
  readonly connectionState: ConnectionState;
}

/** A typed client for a generated API description: its endpoints plus connection control. */
export type ApiClient<TApi> = ApiMethods<TApi> & ClientConnection;

/** How values cross the wire: the server's tRPC transformer. */
export interface Transformer {
  serialize(value: unknown): unknown;
  deserialize(value: unknown): unknown;
}

export interface ApiClientOptions {
  /** The server's base URL, e.g. `http://localhost:3000` (tRPC lives at `/trpc`). */
  url: string;
  /** The bearer token, or a function that returns the current one (read at each connect). */
  token?: string | (() => MaybePromise<string | null | undefined>);
  /**
   * How queries and mutations travel; subscriptions always use the WebSocket.
   * @default 'ws'
   */
  calls?: 'ws' | 'http';
  /**
   * The server's transformer.
   * @default superjson (the framework's default)
   */
  transformer?: Transformer;
  /**
   * A WebSocket class.
   * @default the global one; on Node 20, which has none, the `ws` package (install it)
   */
  WebSocket?: unknown;
  /** Reconnect delays (jittered exponential backoff). */
  reconnect?: BackoffOptions;
  /**
   * Client-side keep-alive: a ping after this much silence, and a reconnect when no pong
   * comes within `pongTimeoutMs`.
   * @default { intervalMs: 5_000, pongTimeoutMs: 3_000 }
   */
  keepAlive?: { intervalMs: number; pongTimeoutMs: number };
  /**
   * Queries and mutations waiting for an answer at most (queued while disconnected included):
   * beyond, a call fails at once with `PendingCallsFullError` rather than pile up in memory
   * while the server is away. The server answers at most 1,000 per connection at once too.
   * @default 1_000
   */
  maxPendingCalls?: number;
}

/** Procedure kinds at run time, by endpoint and method: what `pnpm generate` writes next to the API type. */
export type ApiManifest = Readonly<
  Record<string, Readonly<Record<string, { readonly kind: string; readonly tracked: boolean }>>>
>;

/**
 * A client for a generated API description: calls read Serverpod-style,
 * `await client.todos.list()`, `client.todos.watch().listen({ onData })` or
 * `for await (const event of client.todos.watch())`. It reconnects by itself, and its
 * subscriptions resume after the last event they saw.
 *
 * ```ts
 * import { apiManifest, type Api } from './generated/api.js';
 * const client = createApiClient<Api>(apiManifest, { url: 'http://localhost:3000', token });
 * ```
 */
export function createApiClient<TApi>(manifest: ApiManifest, opts: ApiClientOptions): ApiClient<TApi> {
  const base = opts.url.replace(/\/+$/, '');
  const wsUrl = `${base.replace(/^http/, 'ws')}/trpc`;
  const transformer = opts.transformer ?? new SuperJSON();
  const WebSocketClass = (opts.WebSocket as typeof globalThis.WebSocket | undefined) ?? loadWebSocket();
  const subscriptions = new Set<{ reattach(): void; close(): void }>();
  const listeners = new Set<(connected: boolean) => void>();
  let state: ConnectionState = 'connecting';
  let closed = false;

  const readToken = async () => (typeof opts.token === 'function' ? await opts.token() : opts.token);
  const setState = (next: ConnectionState) => {
    if (closed) return;
    state = next;
    listeners.forEach((l) => l(next === 'connected'));
  };

  const connect = () => {
    let live = true;
    const ws = createWSClient({
      url: wsUrl,
      connectionParams: async () => {
        const token = await readToken();
        return token == null || token === '' ? null : { token };
      },
      retryDelayMs: jitteredBackoff(opts.reconnect),
      keepAlive: { enabled: true, ...(opts.keepAlive ?? { intervalMs: 5_000, pongTimeoutMs: 3_000 }) },
      WebSocket: WebSocketClass,
      // A replaced connection's events are history.
      onOpen: () => live && setState('connected'),
      // A first attempt that fails counts too: the server is unreachable, and the client keeps trying.
      onClose: () => live && state !== 'reconnecting' && setState('reconnecting'),
    });
    const calls =
      opts.calls === 'http'
        ? httpBatchLink({
            url: `${base}/trpc`,
            transformer,
            headers: async () => {
              const token = await readToken();
              return token == null || token === '' ? {} : { authorization: `Bearer ${token}` };
            },
          })
        : wsLink({ client: ws, transformer });
    const trpc: TRPCUntypedClient<AnyTRPCRouter> = createTRPCUntypedClient({
      links: [
        splitLink({
          condition: (op) => op.type === 'subscription',
          true: wsLink({ client: ws, transformer }),
          false: calls,
        }),
      ],
    });
    return {
      ws,
      trpc,
      retire: () => {
        live = false;
      },
    };
  };

  let current = connect();

  const transport: SubscriptionTransport = {
    subscribe: (path, input, handlers) => current.trpc.subscription(path, input, handlers),
    track: (subscription) => {
      subscriptions.add(subscription);
      return () => subscriptions.delete(subscription);
    },
  };

  const maxPendingCalls = opts.maxPendingCalls ?? 1_000;
  let pendingCalls = 0;
  const bounded = (call: () => Promise<unknown>): Promise<unknown> => {
    if (pendingCalls >= maxPendingCalls) return Promise.reject(new PendingCallsFullError(maxPendingCalls));
    pendingCalls++;
    return call().finally(() => pendingCalls--);
  };

  const api: Record<string, Record<string, (input?: unknown) => unknown>> = {};
  for (const [endpoint, methods] of Object.entries(manifest)) {
    const group: Record<string, (input?: unknown) => unknown> = {};
    for (const [method, { kind, tracked }] of Object.entries(methods)) {
      const path = `${endpoint}.${method}`;
      group[method] =
        kind === 'query'
          ? (input) => bounded(() => current.trpc.query(path, input))
          : kind === 'mutation'
            ? (input) => bounded(() => current.trpc.mutation(path, input))
            : (input) => new Subscription({ transport, path, input, tracked });
    }
    api[endpoint] = group;
  }

  const connection: ClientConnection = {
    reconnect() {
      if (closed) return;
      const previous = current;
      previous.retire();
      current = connect();
      if (state === 'connected') setState('reconnecting');
      for (const subscription of subscriptions) subscription.reattach();
      void previous.ws.close();
    },
    async close() {
      setState('closed');
      closed = true;
      for (const subscription of [...subscriptions]) subscription.close();
      await current.ws.close();
    },
    onConnectionChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    get connectionState() {
      return state;
    },
  };
  return Object.defineProperties(api, Object.getOwnPropertyDescriptors(connection)) as ApiClient<TApi>;
}
