import { samePresence, type RoomPresenceBatch, type UserPresence } from '@streampod/protocol';
import { RetryingSubscription } from './retrying-subscription.js';
import { SharedWatch, safely, type HandlerRegistration } from './shared-watch.js';
import type { PresenceSource } from './watched-set.js';

/**
 * What a hook shows for one watched room. A new object only when something in it changed,
 * so `useSyncExternalStore` and Vue refs re-render only then.
 */
export interface RoomPresenceView {
  /** Members whose status is not `offline`, by user id ascending (empty while not `listed`). */
  readonly onlineUsers: readonly UserPresence[];
  /** How many members are online (also above the server's list limit). */
  readonly userCount: number;
  readonly memberCount: number;
  /** Every member's presence, by id (empty while not `listed`). */
  readonly presences: Readonly<Record<number, UserPresence>>;
  /** False above the server's `ROOM_PRESENCE_LIST_LIMIT`: counts only, no members. */
  readonly listed: boolean;
  /** True until the first snapshot (or an error) arrives. */
  readonly isLoading: boolean;
  /** Why the watch ended (FORBIDDEN: not a member, or no longer one). */
  readonly error: Error | null;
}

const none: Readonly<Record<number, UserPresence>> = Object.freeze({});

/** Before the snapshot: shared, so a fresh watch does not look like a change. */
export const loadingRoomView: RoomPresenceView = Object.freeze({
  onlineUsers: Object.freeze([]),
  userCount: 0,
  memberCount: 0,
  presences: none,
  listed: true,
  isLoading: true,
  error: null,
});

/** One `onPresence({ roomId })` call: its handlers and where its errors go. */
export interface RoomHandlerRegistration extends HandlerRegistration {
  readonly onLeft: ((userId: number) => void) | undefined;
}

/**
 * One `presence.subscribeToRoom` subscription, shared by every handler and hook watching the
 * room. It survives reconnects (the fresh snapshot replaces the state) and passing failures
 * (retried with backoff); FORBIDDEN (not, or no longer, a member) ends it.
 */
export class WatchedRoom extends SharedWatch<RoomPresenceView, RoomHandlerRegistration> {
  readonly roomId: number;
  readonly #subscription: RetryingSubscription<RoomPresenceBatch>;
  #members = new Map<number, UserPresence>();

  constructor(opts: { source: PresenceSource; roomId: number }) {
    super(loadingRoomView);
    this.roomId = opts.roomId;
    this.#subscription = new RetryingSubscription({
      subscribe: () => opts.source.presence.subscribeToRoom({ roomId: this.roomId }),
      onData: (batch) => this.#receive(batch),
      onFailed: (error) => this.fail(error),
      name: 'room presence',
    });
  }

  /** The server subscription is open. */
  get open(): boolean {
    return this.#subscription.open;
  }

  stop(): void {
    this.#subscription.stop();
  }

  protected override current(): Iterable<UserPresence> {
    return this.#members.values();
  }

  #receive(batch: RoomPresenceBatch): void {
    const listed = batch.listed ?? true;
    const changed: UserPresence[] = [];
    if (batch.snapshot) {
      const next = new Map(batch.updates.map((p) => [p.userId, p] as const));
      for (const p of batch.updates) if (!samePresence(this.#members.get(p.userId), p)) changed.push(p);
      // A room above the list limit lists nobody: its members did not leave.
      const gone = listed ? [...this.#members.keys()].filter((id) => !next.has(id)) : [];
      this.#members = next;
      this.#tell(changed, gone);
    } else {
      for (const p of batch.updates) {
        if (samePresence(this.#members.get(p.userId), p)) continue;
        this.#members.set(p.userId, p);
        changed.push(p);
      }
      const gone = batch.left.filter((id) => this.#members.delete(id));
      this.#tell(changed, gone);
    }
    const members = [...this.#members.values()].sort((a, b) => a.userId - b.userId);
    const presences: Record<number, UserPresence> = {};
    for (const p of members) presences[p.userId] = p;
    this.publish({
      onlineUsers: Object.freeze(members.filter((p) => p.status !== 'offline')),
      userCount: batch.onlineCount,
      memberCount: batch.memberCount,
      presences: Object.freeze(presences),
      listed,
      isLoading: false,
      error: null,
    });
  }

  #tell(changed: readonly UserPresence[], gone: readonly number[]): void {
    this.eachHandler((registration) => {
      for (const presence of changed) safely(() => registration.handler(presence));
      for (const id of gone) safely(() => registration.onLeft?.(id));
    });
  }
}
