import { addTo, removeFrom, valuesOf } from '../core/small-sets.js';
import type { BusHandler, FanoutBus } from './fanout-bus.js';

/**
 * One subscription: its own object, so one function subscribed twice is two subscriptions
 * (without a wrapper closure and its context per subscription).
 */
interface Subscriber {
  readonly topic: string;
  readonly handler: BusHandler<never>;
  /** Whose: `close` removes a bus's own and no other node's (a set of them per bus was ~30 bytes a topic). */
  readonly bus: MemoryFanoutBus;
}

/**
 * The topics of one process, shared by every `MemoryFanoutBus` made on it: several servers
 * in one process (a test of two nodes) then reach each other as nodes on Redis would.
 */
export class MemoryFanoutBackend {
  /**
   * A topic's subscribers: one as itself, more in a set (most topics, a user's or a room's on
   * one node, have one subscriber, and a set costs ~150 bytes).
   * @internal
   */
  readonly topics = new Map<string, Subscriber | Set<Subscriber>>();

  /** Topics with at least one handler, on any bus of this backend (for leak checks). */
  get topicCount(): number {
    return this.topics.size;
  }
}

/** The single-process bus: a map of topic → handlers; publish calls them synchronously. */
export class MemoryFanoutBus implements FanoutBus {
  readonly #backend: MemoryFanoutBackend;
  #closed = false;

  constructor(backend: MemoryFanoutBackend = new MemoryFanoutBackend()) {
    this.#backend = backend;
  }

  publish<T>(topic: string, value: T): void {
    if (this.#closed) return;
    const subscribers = this.#backend.topics.get(topic);
    if (subscribers === undefined) return;
    if (!(subscribers instanceof Set)) return (subscribers.handler as BusHandler<T>)(value, topic);
    // One removed during this loop is skipped if not reached yet (Set iteration).
    for (const { handler } of subscribers) (handler as BusHandler<T>)(value, topic);
  }

  subscribe<T>(topic: string, handler: BusHandler<T>): Promise<() => void> {
    if (this.#closed) return Promise.reject(new Error('the bus is closed'));
    const entry: Subscriber = { topic, handler, bus: this };
    addTo(this.#backend.topics, topic, entry);
    return Promise.resolve(this.#remove.bind(this, entry));
  }

  unsubscribe<T>(topic: string, handler: BusHandler<T>): void {
    for (const entry of valuesOf(this.#backend.topics.get(topic)))
      if (entry.handler === handler && entry.bus === this) return this.#remove(entry);
  }

  onResync(): () => void {
    // Nothing in memory is ever lost.
    return () => undefined;
  }

  /** Topics with at least one handler (for leak checks). */
  get topicCount(): number {
    return this.#backend.topicCount;
  }

  close(): Promise<void> {
    this.#closed = true;
    // Every node's topics are looked through: a close is rare, a set per bus was paid per topic.
    const mine: Subscriber[] = [];
    for (const held of this.#backend.topics.values())
      for (const entry of valuesOf(held)) if (entry.bus === this) mine.push(entry);
    for (const entry of mine) this.#remove(entry);
    return Promise.resolve();
  }

  #remove(entry: Subscriber): void {
    removeFrom(this.#backend.topics, entry.topic, entry);
  }
}
