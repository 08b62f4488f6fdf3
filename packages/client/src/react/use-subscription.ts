import { useMemo, useSyncExternalStore } from 'react';
import type { ConnectionState } from '../runtime/client.js';
import {
  connectionStateStore,
  inputKey,
  resolveProcedure,
  subscriptionStore,
  type SubscriptionState,
} from '../runtime/live-state.js';
import type { Subscription } from '../runtime/subscription.js';
import { useStreampodContext } from './streampod-provider.js';

export interface UseSubscriptionOptions {
  /** `false` keeps it closed (status `idle`), e.g. until an id is known. @default true */
  enabled?: boolean;
}

/**
 * A live subscription of the provider's client: `{ status, data, error }`, where `data` is
 * the latest event. Pass the client's method (`client.todos.watch`, fully typed) or its
 * path (`'todos.watch'`, typed by the generics you give). Components asking for the same
 * method and input each get their own stream; an input with the same content does not
 * resubscribe, and the stream follows reconnects and resumes by itself.
 */
export function useSubscription<TInput, TEvent>(
  procedure: ((input: TInput) => Subscription<TEvent>) | string,
  input: TInput,
  options: UseSubscriptionOptions = {},
): SubscriptionState<TEvent> {
  const { client } = useStreampodContext('useSubscription');
  const enabled = options.enabled ?? true;
  const key = inputKey(input);
  // Keyed on the input's content: callers pass a fresh literal each render.
  const store = useMemo(() => {
    if (!enabled) return subscriptionStore<TEvent>(null);
    const method = resolveProcedure(client, procedure);
    return subscriptionStore(() => method(input));
  }, [client, procedure, key, enabled]);
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
}

/** The provider's client connection: `connecting`, `connected`, `reconnecting` or `closed`. */
export function useConnectionState(): ConnectionState {
  const { client } = useStreampodContext('useConnectionState');
  const store = useMemo(() => connectionStateStore(client), [client]);
  return useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
}
