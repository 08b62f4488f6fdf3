import type { BusHandler, FanoutBus } from './fanout-bus.js';

/**
 * The topics of one process, shared by every `MemoryFanoutBus` made on it: several servers
 * in one process (a test of two nodes) then reach each other as nodes on Redis would.
 */
export class MemoryFanoutBackend {
  /** @internal */
  readonly topics = new Map<string, Set<BusHandler<never>>>();

  /** Topics with at least one handler, on any bus of this backend (for leak checks). */
  get topicCount(): number {
    return this.topics.size;
  }
}

/** The single-process bus: a map of topic → handlers; publish calls them synchronously. */
export class MemoryFanoutBus implements FanoutBus {
  readonly #backend: MemoryFanoutBackend;
  /** This bus' own handlers, so `close` removes them and no other node's. */
  readonly #mine = new Set<{ topic: string; handler: BusHandler<never> }>();
  #closed = false;

  constructor(backend: MemoryFanoutBackend = new MemoryFanoutBackend()) {
    this.#backend = backend;
  }

  publish<T>(topic: string, value: T): void {
    if (this.#closed) return;
    const handlers = this.#backend.topics.get(topic);
    if (handlers === undefined) return;
    // A handler removed during this loop is skipped if not reached yet (Set iteration).
    for (const handler of handlers) (handler as BusHandler<T>)(value);
  }

  subscribe<T>(topic: string, handler: BusHandler<T>): Promise<() => void> {
    if (this.#closed) return Promise.reject(new Error('the bus is closed'));
    const topics = this.#backend.topics;
    let handlers = topics.get(topic);
    if (handlers === undefined) topics.set(topic, (handlers = new Set()));
    // Wrapped, so one function subscribed twice is two subscriptions.
    const entry = { topic, handler: ((value: T) => handler(value)) as BusHandler<never> };
    handlers.add(entry.handler);
    this.#mine.add(entry);
    return Promise.resolve(() => this.#remove(entry));
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
    for (const entry of [...this.#mine]) this.#remove(entry);
    return Promise.resolve();
  }

  #remove(entry: { topic: string; handler: BusHandler<never> }): void {
    if (!this.#mine.delete(entry)) return;
    const handlers = this.#backend.topics.get(entry.topic);
    if (handlers === undefined) return;
    handlers.delete(entry.handler);
    if (handlers.size === 0) this.#backend.topics.delete(entry.topic);
  }
}
