import type { UserPresence } from '@streampod/protocol';
import { computed, shallowRef, toValue, type MaybeRefOrGetter, type Ref } from 'vue';
import type { StreampodClient } from '../client.js';
import { trackerOf, type PresenceTracker } from '../presence/presence-tracker.js';
import { loadingView, normalizeIds } from '../presence/presence-view.js';
import { useStreampodContext } from './streampod-plugin.js';
import { followStore } from './use-subscription.js';

export interface UsePresenceResult {
  /** The current presence of each watched user, by id; empty until the snapshot arrives. */
  readonly presences: Readonly<Ref<Readonly<Record<number, UserPresence>>>>;
  /** True until the first snapshot (or an error) arrives. */
  readonly isLoading: Readonly<Ref<boolean>>;
  /** Why the presence stream failed (e.g. FORBIDDEN: no shared room). */
  readonly error: Readonly<Ref<Error | null>>;
}

/** The provided presence tracker (or the client's shared one), behind every `usePresence`. */
export function usePresenceTracker(): PresenceTracker {
  const { client, tracker } = useStreampodContext('usePresenceTracker');
  return tracker ?? trackerOf(client as StreampodClient);
}

/**
 * The live presence of `userIds` (an array, ref or getter), from the provided tracker.
 * Changing the ids re-watches; the same ids in a new array do not. Call it inside `setup`
 * (or an effect scope): the subscription ends with that scope.
 */
export function usePresence(userIds: MaybeRefOrGetter<readonly number[]>): UsePresenceResult {
  const tracker = usePresenceTracker();
  // Shallow: the views are immutable snapshots, a deep proxy would only cost.
  const presences = shallowRef(loadingView.presences);
  const isLoading = shallowRef(loadingView.isLoading);
  const error = shallowRef(loadingView.error);
  const key = computed(() => normalizeIds(toValue(userIds)).join(','));
  followStore(
    () => key.value,
    () => tracker.watch(toValue(userIds)),
    (view) => {
      presences.value = view.presences;
      isLoading.value = view.isLoading;
      error.value = view.error;
    },
  );
  return { presences, isLoading, error };
}
