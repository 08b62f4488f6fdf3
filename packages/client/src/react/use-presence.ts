import { useMemo, useSyncExternalStore } from 'react';
import type { StreampodClient } from '../client.js';
import { roomIdOf, trackerOf, type PresenceTracker } from '../presence/presence-tracker.js';
import { normalizeIds, type PresenceView } from '../presence/presence-view.js';
import type { RoomPresenceView } from '../presence/watched-room.js';
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
export function usePresence(userIds: readonly number[]): PresenceView;
/**
 * Who of a room's members is here (`{ roomId: 42 }` or `'room:42'`): `onlineUsers`,
 * `userCount` (online), `memberCount`, `presences`. Every component watching the room
 * shares one server subscription, which survives reconnects; `error` is FORBIDDEN once the
 * user is not (or no longer) a member.
 */
export function usePresence(room: { readonly roomId: number } | `room:${number}`): RoomPresenceView;
export function usePresence(
  target: readonly number[] | { readonly roomId: number } | `room:${number}`,
): PresenceView | RoomPresenceView {
  const tracker = usePresenceTracker();
  const roomId = roomIdOf(target);
  const key = roomId === undefined ? normalizeIds(target as readonly number[]).join(',') : `room:${roomId}`;
  // Keyed on the content, not the object: callers may pass a fresh literal each render.
  const watch = useMemo<{
    subscribe: (listener: () => void) => () => void;
    getSnapshot: () => PresenceView | RoomPresenceView;
  }>(
    () => (roomId === undefined ? tracker.watch(target as readonly number[]) : tracker.watchRoom(roomId)),
    [tracker, key],
  );
  return useSyncExternalStore(watch.subscribe, watch.getSnapshot, watch.getSnapshot);
}
