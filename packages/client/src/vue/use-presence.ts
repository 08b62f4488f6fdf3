import type { UserPresence } from '@streampod/protocol';
import { computed, shallowRef, toValue, watch, type MaybeRefOrGetter, type Ref } from 'vue';
import { loadingView, normalizeIds } from '../presence/presence-view.js';
import { usePresenceTracker } from './streampod-plugin.js';

export interface UsePresenceResult {
  /** The current presence of each watched user, by id; empty until the snapshot arrives. */
  readonly presences: Readonly<Ref<Readonly<Record<number, UserPresence>>>>;
  /** True until the first snapshot (or an error) arrives. */
  readonly isLoading: Readonly<Ref<boolean>>;
  /** Why the presence stream failed (e.g. FORBIDDEN: no shared room). */
  readonly error: Readonly<Ref<Error | null>>;
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
  watch(
    key,
    (_key, _previous, onCleanup) => {
      const presenceWatch = tracker.watch(toValue(userIds));
      const sync = () => {
        const view = presenceWatch.getSnapshot();
        presences.value = view.presences;
        isLoading.value = view.isLoading;
        error.value = view.error;
      };
      onCleanup(presenceWatch.subscribe(sync));
      sync();
    },
    { immediate: true },
  );
  return { presences, isLoading, error };
}
