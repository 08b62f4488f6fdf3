import { samePresence, type PresenceBatch, type UserPresence } from '@streampod/protocol';
import type { StreampodClient } from '../client.js';
import { RetryingSubscription } from './retrying-subscription.js';
import { loadingView, type PresenceView } from './presence-view.js';

/** The part of the client presence tracking needs. */
export interface PresenceSource {
  readonly presence: Pick<StreampodClient['presence'], 'subscribeToPresence' | 'subscribeToRoom' | 'getRoomPresence'>;
}

/** One `onPresence` call: its handler and where its errors go. */
export interface HandlerRegistration {
  readonly handler: (presence: UserPresence) => void;
  readonly onError: ((error: Error) => void) | undefined;
}

/** What the tracker hears from a set, to keep its merged map (`get`, `list`) and report errors. */
export interface WatchedSetEvents {
  /** Entries the set's stream brought, in order. */
  onUpdates(updates: readonly UserPresence[]): void;
  onError(error: Error, userIds: readonly number[]): void;
}

/** One handler throwing must not keep the others from hearing the change. */
function deliver(registration: HandlerRegistration, presence: UserPresence): void {
  try {
    registration.handler(presence);
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}

/**
 * One server subscription for one distinct id set, shared by every handler and hook that
 * watches exactly those ids. It holds the set's state as its own stream tells it, so the
 * stream's order (snapshot first, changes after) is what its view shows.
 */
export class WatchedSet {
  readonly userIds: readonly number[];
  readonly #wanted: ReadonlySet<number>;
  readonly #events: WatchedSetEvents;
  readonly #handlers = new Set<HandlerRegistration>();
  readonly #listeners = new Set<() => void>();
  #state = new Map<number, UserPresence>();
  #view: PresenceView = loadingView;
  readonly #subscription: RetryingSubscription<PresenceBatch>;

  constructor(opts: { source: PresenceSource; userIds: readonly number[]; events: WatchedSetEvents }) {
    this.userIds = opts.userIds;
    this.#wanted = new Set(opts.userIds);
    this.#events = opts.events;
    // Keeps the state shown through passing failures; the next snapshot brings it up to date.
    this.#subscription = new RetryingSubscription({
      subscribe: () => opts.source.presence.subscribeToPresence({ userIds: [...this.userIds] }),
      onData: (batch) => this.#receive(batch),
      onFailed: (error) => this.#fail(error),
      name: 'presence',
    });
  }

  /** The server subscription is still open. */
  get open(): boolean {
    return this.#subscription.open;
  }

  get view(): PresenceView {
    return this.#view;
  }

  get state(): ReadonlyMap<number, UserPresence> {
    return this.#state;
  }

  get handlers(): ReadonlySet<HandlerRegistration> {
    return this.#handlers;
  }

  /**
   * Adds a handler. One that joins after the snapshot gets the current state (or the
   * error) on the next microtask, as if it had been there from the start.
   */
  addHandler(registration: HandlerRegistration): void {
    this.#handlers.add(registration);
    if (this.#view.isLoading) return;
    queueMicrotask(() => {
      if (!this.#handlers.has(registration)) return;
      const { error } = this.#view;
      if (error !== null) registration.onError?.(error);
      else for (const presence of this.#state.values()) deliver(registration, presence);
    });
  }

  removeHandler(registration: HandlerRegistration): void {
    this.#handlers.delete(registration);
  }

  addListener(listener: () => void): () => void {
    // Wrapped so the same function subscribed twice counts twice, like two hooks would.
    const entry = () => listener();
    this.#listeners.add(entry);
    return () => this.#listeners.delete(entry);
  }

  stop(): void {
    this.#subscription.stop();
  }

  #receive(batch: PresenceBatch): void {
    // The server sends only what was asked; filtering keeps that promise even if it did not.
    const updates = batch.updates.filter((p) => this.#wanted.has(p.userId));
    let changed = this.#view.isLoading;
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
    if (changed) this.#publish({ presences: this.#freezeState(), isLoading: false, error: null });
    for (const registration of [...this.#handlers]) {
      for (const presence of updates) if (this.#handlers.has(registration)) deliver(registration, presence);
    }
  }

  #fail(error: Error): void {
    this.#publish({ presences: this.#view.presences, isLoading: false, error });
    this.#events.onError(error, this.userIds);
    for (const registration of [...this.#handlers]) registration.onError?.(error);
  }

  #freezeState(): Readonly<Record<number, UserPresence>> {
    const presences: Record<number, UserPresence> = {};
    for (const [id, presence] of this.#state) presences[id] = presence;
    return Object.freeze(presences);
  }

  #publish(view: PresenceView): void {
    this.#view = Object.freeze(view);
    for (const listener of [...this.#listeners]) listener();
  }
}
