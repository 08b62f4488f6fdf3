import type { UserPresence } from '@streampod/protocol';
import { emptyView, loadingView, normalizeIds, type PresenceWatch } from './presence-view.js';
import { holdWhileListening, SharedByKey } from '../runtime/shared.js';
import { loadingRoomView, WatchedRoom, type RoomHandlerRegistration, type RoomPresenceView } from './watched-room.js';
import { WatchedSet, type HandlerRegistration, type PresenceSource } from './watched-set.js';

export type { PresenceSource } from './watched-set.js';

/** Called with each presence a watch hears about: every snapshot entry, then every change. */
export type PresenceHandler = (presence: UserPresence) => void;

export interface PresenceTrackerOptions {
  /**
   * Called whenever the subscription of an id set fails (e.g. FORBIDDEN: the viewer shares
   * no room with one of `userIds`), in addition to the handlers' own `onError`.
   */
  onError?: (error: Error, userIds: readonly number[]) => void;
}

export interface OnPresenceOptions {
  /** The subscription failed (e.g. FORBIDDEN); it is over, and this handler hears nothing more. */
  onError?: (error: Error) => void;
  /** A member left the watched room (rooms only). */
  onLeft?: (userId: number) => void;
}

/** What `onPresence` watches: user ids, a room (`{ roomId: 42 }`), or a room as the hosted SDKs name it (`'room:42'`). */
export type PresenceTarget = readonly number[] | { readonly roomId: number } | `room:${number}`;

/** A subscribe/getSnapshot pair for one room, for framework hooks (see `PresenceWatch`). */
export interface RoomPresenceWatch {
  readonly roomId: number;
  readonly subscribe: (listener: () => void) => () => void;
  readonly getSnapshot: () => RoomPresenceView;
}

/** The room id of a room target, or undefined for a list of user ids. */
export function roomIdOf(target: PresenceTarget): number | undefined {
  if (typeof target === 'string') {
    const match = /^room:(\d+)$/.exec(target);
    if (match === null) throw new TypeError(`onPresence: "${target}" is not a room topic like "room:42"`);
    return Number(match[1]);
  }
  return 'roomId' in target ? target.roomId : undefined;
}

/**
 * A live map of watched users: `onPresence([1, 2], handler)` like hosted presence SDKs.
 * Each distinct id set (order and duplicates do not matter) is one server subscription,
 * shared by every handler and hook that watches it and stopped with the last of them. It
 * survives reconnects: the client re-subscribes and the fresh snapshot replaces the state.
 * An id set whose subscription failed keeps its error until everyone watching it leaves;
 * the next watch of those ids tries again.
 */
export class PresenceTracker {
  readonly #sets: SharedByKey<string, WatchedSet>;
  /** Each handler's hold on its set. */
  readonly #releases = new Map<HandlerRegistration | RoomHandlerRegistration, (now?: boolean) => void>();
  readonly #rooms: SharedByKey<number, WatchedRoom>;
  readonly #client: PresenceSource;
  /** Every watched user's latest presence, whichever set's stream brought it. */
  readonly #latest = new Map<number, UserPresence>();

  constructor(client: PresenceSource, options: PresenceTrackerOptions = {}) {
    this.#client = client;
    this.#rooms = new SharedByKey(
      (roomId) => new WatchedRoom({ source: client, roomId }),
      (room) => room.stop(),
    );
    this.#sets = new SharedByKey(
      (key) =>
        new WatchedSet({
          source: client,
          userIds: key.split(',').map(Number),
          events: {
            // Last arrival wins; each set's own view follows its own stream's order.
            onUpdates: (updates) => {
              for (const presence of updates) this.#latest.set(presence.userId, presence);
            },
            onError: (error, userIds) => options.onError?.(error, userIds),
          },
        }),
      (set) => this.#stopped(set),
    );
  }

  /**
   * Watches `userIds`, or a room's members (`{ roomId }` or `'room:42'`): `handler` gets
   * every entry of the snapshot, then every change (and `onLeft` every member who leaves a
   * room). A handler added while the target is already watched gets its current state
   * first. Returns the function that removes this handler.
   */
  onPresence(target: PresenceTarget, handler: PresenceHandler, options: OnPresenceOptions = {}): () => void {
    const roomId = roomIdOf(target);
    if (roomId !== undefined) {
      const registration: RoomHandlerRegistration = { handler, onLeft: options.onLeft, onError: options.onError };
      const { value: room, release } = this.#rooms.acquire(roomId);
      this.#releases.set(registration, release);
      room.addHandler(registration);
      return () => this.#removeFromRoom(room, registration);
    }
    const ids = normalizeIds(target as readonly number[]);
    if (ids.length === 0) return () => undefined;
    const registration: HandlerRegistration = { handler, onError: options.onError };
    const { value: set, release } = this.#sets.acquire(ids.join(','));
    this.#releases.set(registration, release);
    set.addHandler(registration);
    return () => this.#remove(set, registration);
  }

  /** Removes `handler` from every id set it watches. */
  offPresence(handler: PresenceHandler): void {
    for (const set of [...this.#sets.values()]) {
      for (const registration of [...set.handlers])
        if (registration.handler === handler) this.#remove(set, registration);
    }
    for (const room of [...this.#rooms.values()]) {
      for (const registration of [...room.handlers])
        if (registration.handler === handler) this.#removeFromRoom(room, registration);
    }
  }

  /**
   * Removes every handler, stopping every subscription. Hooks (`watch`) keep theirs: they
   * are ended by unmounting, not from here.
   */
  clearPresenceHandlers(): void {
    for (const set of [...this.#sets.values()])
      for (const registration of [...set.handlers]) this.#remove(set, registration);
    for (const room of [...this.#rooms.values()])
      for (const registration of [...room.handlers]) this.#removeFromRoom(room, registration);
  }

  /**
   * The room's members who are online (not `offline`), by id: from the room's live watch
   * when there is one, else asked of the server (`presence.getRoomPresence`). Empty above
   * the server's list limit, where only counts are told.
   */
  async getOnlineUsers(roomId: number): Promise<UserPresence[]> {
    const view = this.#rooms.get(roomId)?.view;
    if (view !== undefined && !view.isLoading && view.error === null) return [...view.onlineUsers];
    const room = await this.#client.presence.getRoomPresence({ roomId });
    return room.members.filter((p) => p.status !== 'offline');
  }

  /** A subscribe/getSnapshot pair for a room's presence (one server subscription per room, shared). */
  watchRoom(roomId: number): RoomPresenceWatch {
    return {
      roomId,
      subscribe: holdWhileListening(this.#rooms, roomId, (room, listener) => room.addListener(listener)),
      getSnapshot: () => this.#rooms.get(roomId)?.view ?? loadingRoomView,
    };
  }

  /** The current presence of a watched user; `undefined` if not watched or not loaded yet. */
  get(userId: number): UserPresence | undefined {
    return this.#latest.get(userId);
  }

  /** The current presence of every watched user whose state has arrived. */
  list(): UserPresence[] {
    return [...this.#latest.values()];
  }

  /** Open server subscriptions: one per distinct id set being watched. */
  get subscriptionCount(): number {
    let count = 0;
    for (const set of this.#sets.values()) if (set.open) count++;
    for (const room of this.#rooms.values()) if (room.open) count++;
    return count;
  }

  /**
   * A subscribe/getSnapshot pair for `userIds`, for framework hooks (React's
   * `useSyncExternalStore`, Vue watchers). Nothing starts until `subscribe` is called.
   */
  watch(userIds: readonly number[]): PresenceWatch {
    const ids = normalizeIds(userIds);
    const key = ids.join(',');
    if (ids.length === 0) {
      return { userIds: ids, subscribe: () => () => undefined, getSnapshot: () => emptyView };
    }
    return {
      userIds: ids,
      subscribe: holdWhileListening(this.#sets, key, (set, listener) => set.addListener(listener)),
      getSnapshot: () => this.#sets.get(key)?.view ?? loadingView,
    };
  }

  /** An explicit removal: the subscription stops at once if this was its last user. */
  #remove(set: WatchedSet, registration: HandlerRegistration): void {
    const release = this.#releases.get(registration);
    if (release === undefined) return;
    this.#releases.delete(registration);
    set.removeHandler(registration);
    release(true);
  }

  #removeFromRoom(room: WatchedRoom, registration: RoomHandlerRegistration): void {
    const release = this.#releases.get(registration);
    if (release === undefined) return;
    this.#releases.delete(registration);
    room.removeHandler(registration);
    release(true);
  }

  /** Nobody watches `set` any more: its subscription stops, and users only it watched are forgotten. */
  #stopped(set: WatchedSet): void {
    set.stop();
    const stillWatched = new Set<number>();
    for (const other of this.#sets.values()) for (const id of other.userIds) stillWatched.add(id);
    for (const id of set.userIds) if (!stillWatched.has(id)) this.#latest.delete(id);
  }
}

const trackers = new WeakMap<PresenceSource, PresenceTracker>();

/** The client's shared tracker (one per client object, made on first use): what hooks use unless given one. */
export function trackerOf(client: PresenceSource): PresenceTracker {
  let tracker = trackers.get(client);
  if (tracker === undefined) trackers.set(client, (tracker = new PresenceTracker(client)));
  return tracker;
}
