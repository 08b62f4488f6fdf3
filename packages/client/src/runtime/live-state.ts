import type { ClientConnection, ConnectionState } from './client.js';
import { RefCount } from './shared.js';
import type { Subscription } from './subscription.js';

/**
 * Where a subscription stands: `idle` (not enabled), `pending` (waiting for the server),
 * `live` (the server accepted it; `data` is the latest event), `error` (it failed for good),
 * `ended` (the server ended it).
 */
export type SubscriptionStatus = 'idle' | 'pending' | 'live' | 'error' | 'ended';

/** What a hook shows of one subscription: a new object only when something in it changed. */
export interface SubscriptionState<TEvent> {
  readonly status: SubscriptionStatus;
  /** The latest event; `undefined` until one arrives. */
  readonly data: TEvent | undefined;
  readonly error: Error | null;
}

/** A subscribe/getSnapshot pair: the shape React's `useSyncExternalStore` and Vue watchers build on. */
export interface ExternalStore<TSnapshot> {
  readonly subscribe: (listener: () => void) => () => void;
  readonly getSnapshot: () => TSnapshot;
}

const idle: SubscriptionState<never> = Object.freeze({ status: 'idle', data: undefined, error: null });

/**
 * One subscription as an external store for framework hooks. It opens with the first
 * listener and closes a microtask after the last one leaves (React StrictMode leaves and
 * comes back at once). `open` is `null` while the subscription is disabled.
 */
export function subscriptionStore<TEvent>(
  open: (() => Subscription<TEvent>) | null,
): ExternalStore<SubscriptionState<TEvent>> {
  if (open === null) return { subscribe: () => () => undefined, getSnapshot: () => idle };
  let state: SubscriptionState<TEvent> = Object.freeze({ status: 'pending', data: undefined, error: null });
  const listeners = new Set<() => void>();
  const set = (next: Partial<SubscriptionState<TEvent>>) => {
    state = Object.freeze({ ...state, ...next });
    for (const listener of [...listeners]) listener();
  };
  let stop: (() => void) | undefined;
  const refs = new RefCount(
    () => {
      // Back before the last one's release took effect (React StrictMode): still open.
      if (stop !== undefined) return;
      state = Object.freeze({ status: 'pending', data: undefined, error: null });
      stop = open().listen({
        onStarted: () => state.status !== 'live' && set({ status: 'live' }),
        onData: (data) => set({ status: 'live', data }),
        onError: (error) => set({ status: 'error', error }),
        onComplete: () => set({ status: 'ended' }),
      });
    },
    () => {
      stop?.();
      stop = undefined;
    },
  );
  return {
    subscribe: (listener) => {
      const entry = () => listener();
      listeners.add(entry);
      const release = refs.acquire();
      return () => {
        listeners.delete(entry);
        release();
      };
    },
    getSnapshot: () => state,
  };
}

/** A client's connection state as an external store. */
export function connectionStateStore(client: ClientConnection): ExternalStore<ConnectionState> {
  return {
    subscribe: (listener) => client.onConnectionChange(() => listener()),
    getSnapshot: () => client.connectionState,
  };
}

/**
 * Which method of `client` a hook means: the method itself (`client.todos.watch`, fully
 * typed) or its path (`'todos.watch'`).
 */
export function resolveProcedure<TInput, TEvent>(
  client: object,
  procedure: string | ((input: TInput) => Subscription<TEvent>),
): (input: TInput) => Subscription<TEvent> {
  if (typeof procedure !== 'string') return procedure;
  const [endpoint, method, ...rest] = procedure.split('.');
  const group = (client as Record<string, Record<string, unknown> | undefined>)[endpoint ?? ''];
  const found = rest.length === 0 && method !== undefined ? group?.[method] : undefined;
  if (typeof found !== 'function') throw new Error(`no subscription '${procedure}' on this client`);
  return found as (input: TInput) => Subscription<TEvent>;
}

/** A stable key for an input value: hooks get a fresh literal on every render. */
export function inputKey(input: unknown): string {
  return (
    JSON.stringify(input, (_key, value: unknown) => (value instanceof Date ? `date:${value.toISOString()}` : value)) ??
    ''
  );
}
