import type { BusHandler, FanoutBus } from './fanout-bus.js';
import { stopOnce, TopicHandlers } from './topic-handlers.js';

/**
 * The topics of one process, shared by every `MemoryFanoutBus` made on it: several servers
 * in one process (a test of two nodes) then reach each other as nodes on Redis would.
 */
export class MemoryFanoutBackend {
  /**
   * Each open bus's handlers, replaced (not changed) when a bus comes or goes: a delivery
   * goes on over the buses it began with. A bus keeps its own, so a topic with one handler
   * costs one map entry, not an object naming whose it is.
   * @internal
   */
  buses: readonly TopicHandlers[] = [];

  /** Topics with at least one handler, on any bus of this backend (for leak checks). */
  get topicCount(): number {
    const topics = new Set<string>();
    for (const handlers of this.buses) for (const topic of handlers.topics()) topics.add(topic);
    return topics.size;
  }
}

/** The single-process bus: a map of topic → handlers; publish calls them synchronously. */
export class MemoryFanoutBus implements FanoutBus {
  readonly #backend: MemoryFanoutBackend;
  readonly #handlers = new TopicHandlers();
  #closed = false;

  constructor(backend: MemoryFanoutBackend = new MemoryFanoutBackend()) {
    this.#backend = backend;
    backend.buses = [...backend.buses, this.#handlers];
  }

  publish<T>(topic: string, value: T): void {
    if (this.#closed) return;
    for (const handlers of this.#backend.buses) handlers.deliver(topic, value);
  }

  subscribe<T>(topic: string, handler: BusHandler<T>): Promise<() => void> {
    if (this.#closed) return Promise.reject(new Error('the bus is closed'));
    this.#handlers.add(topic, handler);
    return Promise.resolve(stopOnce(() => this.#handlers.remove(topic, handler)));
  }

  unsubscribe<T>(topic: string, handler: BusHandler<T>): void {
    this.#handlers.remove(topic, handler);
  }

  onResync(): () => void {
    // Nothing in memory is ever lost.
    return () => undefined;
  }

  /** Topics this node is subscribed to (for leak checks). */
  get topicCount(): number {
    return this.#handlers.size;
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.#backend.buses = this.#backend.buses.filter((handlers) => handlers !== this.#handlers);
    this.#handlers.clear();
    return Promise.resolve();
  }
}
