import { samePresence, type RoomPresenceBatch, type UserPresence } from '@streampod/protocol';
import { RetryingSubscription } from './retrying-subscription.js';
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
export interface RoomHandlerRegistration {
  readonly handler: (presence: UserPresence) => void;
  readonly onLeft: ((userId: number) => void) | undefined;
  readonly onError: ((error: Error) => void) | undefined;
}

/** One handler throwing must not keep the others from hearing the change. */
function safely(call: () => void): void {
  try {
    call();
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}

/**
 * One `presence.subscribeToRoom` subscription, shared by every handler and hook watching the
 * room. It survives reconnects (the fresh snapshot replaces the state) and passing failures
 * (retried with backoff); FORBIDDEN (not, or no longer, a member) ends it.
 */
export class WatchedRoom {
  readonly roomId: number;
  readonly #handlers = new Set<RoomHandlerRegistration>();
  readonly #listeners = new Set<() => void>();
  readonly #subscription: RetryingSubscription<RoomPresenceBatch>;
  #members = new Map<number, UserPresence>();
  #view: RoomPresenceView = loadingRoomView;

  constructor(opts: { source: PresenceSource; roomId: number }) {
    this.roomId = opts.roomId;
    this.#subscription = new RetryingSubscription({
      subscribe: () => opts.source.presence.subscribeToRoom({ roomId: this.roomId }),
      onData: (batch) => this.#receive(batch),
      onFailed: (error) => this.#fail(error),
      name: 'room presence',
    });
  }

  get view(): RoomPresenceView {
    return this.#view;
  }

  get handlers(): ReadonlySet<RoomHandlerRegistration> {
    return this.#handlers;
  }

  /** The server subscription is open. */
  get open(): boolean {
    return this.#subscription.open;
  }

  /** Adds a handler; one that joins after the snapshot gets the current members first. */
  addHandler(registration: RoomHandlerRegistration): void {
    this.#handlers.add(registration);
    if (this.#view.isLoading) return;
    queueMicrotask(() => {
      if (!this.#handlers.has(registration)) return;
      const { error } = this.#view;
      if (error !== null) registration.onError?.(error);
      else for (const presence of this.#members.values()) safely(() => registration.handler(presence));
    });
  }

  removeHandler(registration: RoomHandlerRegistration): void {
    this.#handlers.delete(registration);
  }

  addListener(listener: () => void): () => void {
    const entry = () => listener();
    this.#listeners.add(entry);
    return () => this.#listeners.delete(entry);
  }

  stop(): void {
    this.#subscription.stop();
  }

  #fail(error: Error): void {
    this.#publish({ ...this.#view, isLoading: false, error });
    for (const registration of [...this.#handlers]) registration.onError?.(error);
  }

  #receive(batch: RoomPresenceBatch): void {
    const listed = batch.listed ?? true;
    const changed: UserPresence[] = [];
    if (batch.snapshot) {
      const next = new Map(batch.updates.map((p) => [p.userId, p] as const));
      for (const p of batch.updates) if (!samePresence(this.#members.get(p.userId), p)) changed.push(p);
      const gone = [...this.#members.keys()].filter((id) => !next.has(id));
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
    this.#publish({
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
    for (const registration of [...this.#handlers]) {
      for (const presence of changed) safely(() => registration.handler(presence));
      for (const id of gone) safely(() => registration.onLeft?.(id));
    }
  }

  #publish(view: RoomPresenceView): void {
    this.#view = Object.freeze(view);
    for (const listener of [...this.#listeners]) listener();
  }
}
