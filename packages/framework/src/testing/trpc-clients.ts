import { createTRPCUntypedClient, createWSClient, httpBatchLink, wsLink, type TRPCUntypedClient } from '@trpc/client';
import type { AnyTRPCRouter } from '@trpc/server';
import { SuperJSON } from 'superjson';
import { WebSocket } from 'ws';
import type { Transformer } from '../core/router.js';

/**
 * The stock tRPC v11 client over WebSocket, set up from a wire contract alone
 * (connectionParams token, the transformer): what any third-party client would do.
 */
export interface StockWsClient extends TRPCUntypedClient<AnyTRPCRouter>, AsyncDisposable {
  close(): Promise<void>;
}

const defaultTransformer = new SuperJSON();

/** @param transformer the app's (see `sp.transformer`) @default superjson */
export function stockWsClient(
  wsUrl: string,
  token?: string | (() => string | null),
  transformer: Transformer = defaultTransformer,
): StockWsClient {
  const ws = createWSClient({
    url: wsUrl,
    // ws' WebSocket implements the browser interface tRPC expects.
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    connectionParams: () => {
      const t = typeof token === 'function' ? token() : token;
      return t == null ? null : { token: t };
    },
    retryDelayMs: () => 50,
  });
  const client: TRPCUntypedClient<AnyTRPCRouter> = createTRPCUntypedClient({
    links: [wsLink({ client: ws, transformer })],
  });
  const close = async () => {
    await ws.close();
  };
  return Object.assign(client, { close, [Symbol.asyncDispose]: close });
}

/** The stock tRPC v11 client over HTTP with a bearer token. */
export function stockHttpClient(url: string, token?: string, transformer: Transformer = defaultTransformer) {
  return createTRPCUntypedClient<AnyTRPCRouter>({
    links: [
      httpBatchLink({
        url: `${url}/trpc`,
        transformer,
        headers: () => (token === undefined ? {} : { authorization: `Bearer ${token}` }),
      }),
    ],
  });
}
