import { samePresence, type PresenceBatch, type UserPresence } from '@streampod/protocol';
import type { StreampodClient } from '../client.js';
import { RetryingSubscription } from './retrying-subscription.js';
import { loadingView, type PresenceView } from './presence-view.js';
import { SharedWatch, safely, type HandlerRegistration } from './shared-watch.js';

export type { HandlerRegistration } from './shared-watch.js';

/** The part of the client presence tracking needs. */
export interface PresenceSource {
  readonly presence: Pick<StreampodClient['presence'], 'subscribeToPresence' | 'subscribeToRoom' | 'getRoomPresence'>;
}

/** What the tracker hears from a set, to keep its merged map (`get`, `list`) and report errors. */
export interface WatchedSetEvents {
  /** Entries the set's stream brought, in order. */
  onUpdates(updates: readonly UserPresence[]): void;
  onError(error: Error, userIds: readonly number[]): void;
}

/**
 * One server subscription for one distinct id set, shared by every handler and hook that
 * watches exactly those ids. It holds the set's state as its own stream tells it, so the
 * stream's order (snapshot first, changes after) is what its view shows.
 */
export class WatchedSet extends SharedWatch<PresenceView, HandlerRegistration> {
  readonly userIds: readonly number[];
  readonly #wanted: ReadonlySet<number>;
  readonly #events: WatchedSetEvents;
  #state = new Map<number, UserPresence>();
  readonly #subscription: RetryingSubscription<PresenceBatch>;

  constructor(opts: { source: PresenceSource; userIds: readonly number[]; events: WatchedSetEvents }) {
    super(loadingView);
    this.userIds = opts.userIds;
    this.#wanted = new Set(opts.userIds);
    this.#events = opts.events;
    // Keeps the state shown through passing failures; the next snapshot brings it up to date.
    this.#subscription = new RetryingSubscription({
      subscribe: () => opts.source.presence.subscribeToPresence({ userIds: [...this.userIds] }),
      onData: (batch) => this.#receive(batch),
      onFailed: (error) => this.fail(error),
      name: 'presence',
    });
  }

  /** The server subscription is still open. */
  get open(): boolean {
    return this.#subscription.open;
  }

  get state(): ReadonlyMap<number, UserPresence> {
    return this.#state;
  }

  stop(): void {
    this.#subscription.stop();
  }

  protected override current(): Iterable<UserPresence> {
    return this.#state.values();
  }

  #receive(batch: PresenceBatch): void {
    // The server sends only what was asked; filtering keeps that promise even if it did not.
    const updates = batch.updates.filter((p) => this.#wanted.has(p.userId));
    let changed = this.view.isLoading;
    if (batch.snapshot) {
      // A snapshot (the first, or a fresh one after a reconnect) replaces the whole state.
      const next = new Map(updates.map((p) => [p.userId, p] as const));
      changed ||= next.size !== this.#state.size || updates.some((p) => !samePresence(this.#state.get(p.userId), p));
      this.#state = next;
    } else {
      for (const presence of updates) {
        if (samePresence(this.#state.get(presence.userId), presence)) continue;
        this.#state.set(presence.userId, presence);
        changed = true;
      }
    }
    this.#events.onUpdates(updates);
    if (changed) this.publish({ presences: this.#freezeState(), isLoading: false, error: null });
    this.eachHandler((registration) => {
      for (const presence of updates) safely(() => registration.handler(presence));
    });
  }

  protected override fail(error: Error): void {
    super.fail(error);
    this.#events.onError(error, this.userIds);
  }

  #freezeState(): Readonly<Record<number, UserPresence>> {
    const presences: Record<number, UserPresence> = {};
    for (const [id, presence] of this.#state) presences[id] = presence;
    return Object.freeze(presences);
  }
}
