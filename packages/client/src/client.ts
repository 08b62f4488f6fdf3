import {
  createTRPCUntypedClient,
  createWSClient,
  httpBatchLink,
  splitLink,
  wsLink,
  type TRPCUntypedClient,
} from '@trpc/client';
import type { AnyTRPCRouter } from '@trpc/server';
import { transformer } from '@streampod/protocol';
import { jitteredBackoff, type BackoffOptions } from './backoff.js';
import { apiManifest, type StreampodApi } from './generated/api.js';
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

/** A typed client for an API description (`StreampodApi` for the chat server). */
export type ApiClient<TApi> = {
  readonly [TEndpoint in keyof TApi]: {
    readonly [TMethod in keyof TApi[TEndpoint]]: ClientMethod<TApi[TEndpoint][TMethod]>;
  };
};

export interface StreampodClientOptions {
  /** The server's base URL, e.g. `http://localhost:3000` (tRPC lives at `/trpc`). */
  url: string;
  /** The bearer token, or a function that returns the current one (read at each connect). */
  token?: string | (() => MaybePromise<string | null | undefined>);
  /**
   * How queries and mutations travel; subscriptions always use the WebSocket.
   * @default 'ws'
   */
  calls?: 'ws' | 'http';
  /** A WebSocket class, for runtimes without a global one (Node 20: the `ws` package). */
  WebSocket?: unknown;
  /** Reconnect delays (jittered exponential backoff). */
  reconnect?: BackoffOptions;
  /**
   * Client-side keep-alive: a ping after this much silence, and a reconnect when no pong
   * comes within `pongTimeoutMs`.
   * @default { intervalMs: 5_000, pongTimeoutMs: 3_000 }
   */
  keepAlive?: { intervalMs: number; pongTimeoutMs: number };
}

/** The chat server's client: every endpoint, typed, plus connection control. */
export type StreampodClient = ApiClient<StreampodApi> & {
  /**
   * Opens a new connection, re-reading the token (e.g. after signing in); open
   * subscriptions move to it and resume where they were.
   */
  reconnect(): void;
  /** Closes the connection and stops every subscription. */
  close(): Promise<void>;
  /** Called with `true` when the WebSocket opens and `false` when it drops. */
  onConnectionChange(listener: (connected: boolean) => void): () => void;
};

/**
 * Creates the typed client. Calls read Serverpod-style: `await client.users.me()`,
 * `for await (const batch of client.presence.subscribeToPresence({ userIds }))`.
 */
export function createStreampodClient(opts: StreampodClientOptions): StreampodClient {
  return createApiClient<StreampodApi>(apiManifest, opts);
}

type Manifest = Readonly<
  Record<string, Readonly<Record<string, { readonly kind: string; readonly tracked: boolean }>>>
>;

/** Builds a client for any generated API description; `createStreampodClient` is this for the chat server. */
export function createApiClient<TApi>(manifest: Manifest, opts: StreampodClientOptions) {
  const base = opts.url.replace(/\/+$/, '');
  const wsUrl = `${base.replace(/^http/, 'ws')}/trpc`;
  const subscriptions = new Set<{ reattach(): void; close(): void }>();
  const listeners = new Set<(connected: boolean) => void>();
  let closed = false;

  const readToken = async () => (typeof opts.token === 'function' ? await opts.token() : opts.token);

  const connect = () => {
    const ws = createWSClient({
      url: wsUrl,
      connectionParams: async () => {
        const token = await readToken();
        return token == null || token === '' ? null : { token };
      },
      retryDelayMs: jitteredBackoff(opts.reconnect),
      keepAlive: { enabled: true, ...(opts.keepAlive ?? { intervalMs: 5_000, pongTimeoutMs: 3_000 }) },
      ...(opts.WebSocket === undefined ? {} : { WebSocket: opts.WebSocket as typeof globalThis.WebSocket }),
      onOpen: () => listeners.forEach((l) => l(true)),
      onClose: () => listeners.forEach((l) => l(false)),
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
    return { ws, trpc };
  };

  let current = connect();

  const transport: SubscriptionTransport = {
    subscribe: (path, input, handlers) => current.trpc.subscription(path, input, handlers),
    track: (subscription) => {
      subscriptions.add(subscription);
      return () => subscriptions.delete(subscription);
    },
  };

  const api: Record<string, Record<string, (input?: unknown) => unknown>> = {};
  for (const [endpoint, methods] of Object.entries(manifest)) {
    const group: Record<string, (input?: unknown) => unknown> = {};
    for (const [method, { kind, tracked }] of Object.entries(methods)) {
      const path = `${endpoint}.${method}`;
      group[method] =
        kind === 'query'
          ? (input) => current.trpc.query(path, input)
          : kind === 'mutation'
            ? (input) => current.trpc.mutation(path, input)
            : (input) => new Subscription({ transport, path, input, tracked });
    }
    api[endpoint] = group;
  }

  return Object.assign(api as ApiClient<TApi>, {
    reconnect() {
      if (closed) return;
      const previous = current;
      current = connect();
      for (const subscription of subscriptions) subscription.reattach();
      void previous.ws.close();
    },
    async close() {
      closed = true;
      for (const subscription of [...subscriptions]) subscription.close();
      await current.ws.close();
    },
    onConnectionChange(listener: (connected: boolean) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  });
}
