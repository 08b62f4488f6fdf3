import type { UserPresence } from '@streampod/protocol';
import { computed, shallowRef, toValue, type MaybeRefOrGetter, type Ref } from 'vue';
import type { StreampodClient } from '../client.js';
import { roomIdOf, trackerOf, type PresenceTracker } from '../presence/presence-tracker.js';
import { loadingRoomView } from '../presence/watched-room.js';
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

export interface UseRoomPresenceResult {
  /** Members not `offline`, by id (empty above the server's list limit). */
  readonly onlineUsers: Readonly<Ref<readonly UserPresence[]>>;
  /** How many members are online. */
  readonly userCount: Readonly<Ref<number>>;
  readonly memberCount: Readonly<Ref<number>>;
  readonly presences: Readonly<Ref<Readonly<Record<number, UserPresence>>>>;
  /** False above the server's list limit: counts only. */
  readonly listed: Readonly<Ref<boolean>>;
  readonly isLoading: Readonly<Ref<boolean>>;
  /** FORBIDDEN once the user is not (or no longer) a member. */
  readonly error: Readonly<Ref<Error | null>>;
}

type RoomTarget = { readonly roomId: number } | `room:${number}`;

/**
 * The live presence of `userIds` (an array, ref or getter), from the provided tracker.
 * Changing the ids re-watches; the same ids in a new array do not. Call it inside `setup`
 * (or an effect scope): the subscription ends with that scope.
 */
export function usePresence(userIds: MaybeRefOrGetter<readonly number[]>): UsePresenceResult;
/**
 * Who of a room's members is here (`{ roomId }` or `'room:42'`, or a ref or getter of one):
 * one server subscription per room however many components watch it.
 */
export function usePresence(room: MaybeRefOrGetter<RoomTarget>): UseRoomPresenceResult;
export function usePresence(
  target: MaybeRefOrGetter<readonly number[]> | MaybeRefOrGetter<RoomTarget>,
): UsePresenceResult | UseRoomPresenceResult {
  const first = toValue(target);
  if (Array.isArray(first)) return useUsersPresence(target as MaybeRefOrGetter<readonly number[]>);
  return useRoomPresence(target as MaybeRefOrGetter<RoomTarget>);
}

function useRoomPresence(target: MaybeRefOrGetter<RoomTarget>): UseRoomPresenceResult {
  const tracker = usePresenceTracker();
  const refs = {
    onlineUsers: shallowRef(loadingRoomView.onlineUsers),
    userCount: shallowRef(loadingRoomView.userCount),
    memberCount: shallowRef(loadingRoomView.memberCount),
    presences: shallowRef(loadingRoomView.presences),
    listed: shallowRef(loadingRoomView.listed),
    isLoading: shallowRef(loadingRoomView.isLoading),
    error: shallowRef(loadingRoomView.error),
  };
  const roomId = computed(() => roomIdOf(toValue(target))!);
  followStore(
    () => roomId.value,
    () => tracker.watchRoom(roomId.value),
    (view) => {
      for (const key of Object.keys(refs) as (keyof typeof refs)[]) (refs[key] as Ref<unknown>).value = view[key];
    },
  );
  return refs;
}

function useUsersPresence(userIds: MaybeRefOrGetter<readonly number[]>): UsePresenceResult {
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
