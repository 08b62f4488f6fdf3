import { computed, shallowRef, toValue, watch, type MaybeRefOrGetter, type Ref } from 'vue';
import type { ConnectionState } from '../runtime/client.js';
import {
  connectionStateStore,
  inputKey,
  resolveProcedure,
  subscriptionStore,
  type ExternalStore,
  type SubscriptionStatus,
} from '../runtime/live-state.js';
import type { Subscription } from '../runtime/subscription.js';
import { useStreampodContext } from './streampod-plugin.js';

export interface UseSubscriptionResult<TEvent> {
  readonly status: Readonly<Ref<SubscriptionStatus>>;
  /** The latest event; `undefined` until one arrives. */
  readonly data: Readonly<Ref<TEvent | undefined>>;
  readonly error: Readonly<Ref<Error | null>>;
}

/**
 * Follows `store` into `target` for as long as the current scope lives, re-reading it when
 * `key` changes. Shared by the composables below.
 */
export function followStore<TSnapshot>(
  key: () => unknown,
  store: () => ExternalStore<TSnapshot>,
  onSnapshot: (snapshot: TSnapshot) => void,
): void {
  watch(
    key,
    (_key, _previous, onCleanup) => {
      const current = store();
      const sync = () => onSnapshot(current.getSnapshot());
      onCleanup(current.subscribe(sync));
      sync();
    },
    { immediate: true },
  );
}

/**
 * A live subscription of the provided client: refs `status`, `data` (the latest event) and
 * `error`. `procedure` is the client's method (`client.todos.watch`, fully typed) or its
 * path; `input` and `enabled` may be refs or getters, and a change with new content
 * resubscribes. Call it inside `setup`: the stream ends with that scope.
 */
export function useSubscription<TInput, TEvent>(
  procedure: ((input: TInput) => Subscription<TEvent>) | string,
  input: MaybeRefOrGetter<TInput>,
  options: { enabled?: MaybeRefOrGetter<boolean> } = {},
): UseSubscriptionResult<TEvent> {
  const { client } = useStreampodContext('useSubscription');
  const method = resolveProcedure(client, procedure);
  const status = shallowRef<SubscriptionStatus>('idle');
  const data = shallowRef<TEvent | undefined>(undefined);
  const error = shallowRef<Error | null>(null);
  const enabled = computed(() => toValue(options.enabled) ?? true);
  followStore(
    () => `${enabled.value}:${inputKey(toValue(input))}`,
    () => subscriptionStore(enabled.value ? () => method(toValue(input)) : null),
    (state) => {
      status.value = state.status;
      data.value = state.data;
      error.value = state.error;
    },
  );
  return { status, data, error };
}

/** The provided client's connection: `connecting`, `connected`, `reconnecting` or `closed`. */
export function useConnectionState(): Readonly<Ref<ConnectionState>> {
  const { client } = useStreampodContext('useConnectionState');
  const state = shallowRef(client.connectionState);
  followStore(
    () => client,
    () => connectionStateStore(client),
    (value) => (state.value = value),
  );
  return state;
}
