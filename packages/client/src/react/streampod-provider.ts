import { createContext, createElement, useContext, useMemo, type ReactElement, type ReactNode } from 'react';
import type { StreampodClient } from '../client.js';
import { PresenceTracker } from '../presence/presence-tracker.js';

interface StreampodContextValue {
  readonly client: StreampodClient;
  readonly tracker: PresenceTracker;
}

const StreampodContext = createContext<StreampodContextValue | null>(null);

export interface StreampodProviderProps {
  client: StreampodClient;
  /** Shares one tracker with code outside React. @default a tracker of its own for `client` */
  tracker?: PresenceTracker;
  children?: ReactNode;
}

/** Makes `client` and one shared presence tracker available to the hooks below it. */
export function StreampodProvider({ client, tracker, children }: StreampodProviderProps): ReactElement {
  const value = useMemo(() => ({ client, tracker: tracker ?? new PresenceTracker(client) }), [client, tracker]);
  // `Context.Provider` rather than React 19's `<Context>`: React 18 is a supported peer.
  return createElement(StreampodContext.Provider, { value }, children);
}

function useStreampodContext(hook: string): StreampodContextValue {
  const value = useContext(StreampodContext);
  if (value === null) throw new Error(`${hook}: no <StreampodProvider> above this component`);
  return value;
}

/** The client given to the nearest `StreampodProvider`. */
export function useStreampodClient(): StreampodClient {
  return useStreampodContext('useStreampodClient').client;
}

/** The provider's presence tracker, shared by every `usePresence` below it. */
export function usePresenceTracker(): PresenceTracker {
  return useStreampodContext('usePresenceTracker').tracker;
}
