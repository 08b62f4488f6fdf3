import { useMemo, useSyncExternalStore } from 'react';
import { normalizeIds, type PresenceView } from '../presence/presence-view.js';
import { usePresenceTracker } from './streampod-provider.js';

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
