import { createContext, createElement, useContext, useMemo, type ReactElement, type ReactNode } from 'react';
import type { StreampodClient } from '../client.js';
import type { PresenceTracker } from '../presence/presence-tracker.js';
import type { ClientConnection } from '../runtime/client.js';

interface StreampodContextValue {
  readonly client: ClientConnection;
  readonly tracker: PresenceTracker | undefined;
}

const StreampodContext = createContext<StreampodContextValue | null>(null);

export interface StreampodProviderProps {
  /** Any streampod client: the chat's `createStreampodClient`, or one generated for your own app. */
  client: ClientConnection;
  /** Shares one presence tracker with code outside React. @default one of its own per client, made on first use */
  tracker?: PresenceTracker;
  children?: ReactNode;
}

/** Makes `client` available to the hooks below it. */
export function StreampodProvider({ client, tracker, children }: StreampodProviderProps): ReactElement {
  const value = useMemo(() => ({ client, tracker }), [client, tracker]);
  // `Context.Provider` rather than React 19's `<Context>`: React 18 is a supported peer.
  return createElement(StreampodContext.Provider, { value }, children);
}

/** @internal the nearest provider's value */
export function useStreampodContext(hook: string): StreampodContextValue {
  const value = useContext(StreampodContext);
  if (value === null) throw new Error(`${hook}: no <StreampodProvider> above this component`);
  return value;
}

/**
 * The client given to the nearest `StreampodProvider`, typed as you say it is:
 * `useStreampodClient<TodoClient>()` (the chat's client by default).
 */
export function useStreampodClient<TClient extends ClientConnection = StreampodClient>(): TClient {
  return useStreampodContext('useStreampodClient').client as TClient;
}
