import { useMemo, useSyncExternalStore } from 'react';
import type { StreampodClient } from '../client.js';
import { trackerOf, type PresenceTracker } from '../presence/presence-tracker.js';
import { normalizeIds, type PresenceView } from '../presence/presence-view.js';
import { useStreampodContext } from './streampod-provider.js';

/** The provider's presence tracker (its own, or the client's shared one), behind every `usePresence`. */
export function usePresenceTracker(): PresenceTracker {
  const { client, tracker } = useStreampodContext('usePresenceTracker');
  return tracker ?? trackerOf(client as StreampodClient);
}

/**
 * The live presence of `userIds`, from the provider's tracker. Components watching the
 * same ids (in any order) share one subscription. The result is the same object until
 * something in it changes, and a new array with the same ids does not resubscribe.
 */
export function usePresence(userIds: readonly number[]): PresenceView {
  const tracker = usePresenceTracker();
  const key = normalizeIds(userIds).join(',');
  // Keyed on the ids' content, not the array: callers may pass a fresh literal each render.
  const watch = useMemo(() => tracker.watch(userIds), [tracker, key]);
  return useSyncExternalStore(watch.subscribe, watch.getSnapshot, watch.getSnapshot);
}
