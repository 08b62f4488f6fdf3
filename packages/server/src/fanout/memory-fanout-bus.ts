import type { BusHandler, FanoutBus } from './fanout-bus.js';

/** The single-node bus: a map of topic → handlers; publish calls them synchronously. */
export class MemoryFanoutBus implements FanoutBus {
  readonly #topics = new Map<string, Set<BusHandler<never>>>();

  publish<T>(topic: string, value: T): void {
    const handlers = this.#topics.get(topic);
    if (handlers === undefined) return;
    for (const handler of handlers) (handler as BusHandler<T>)(value);
  }

  subscribe<T>(topic: string, handler: BusHandler<T>): () => void {
    let handlers = this.#topics.get(topic);
    if (handlers === undefined) {
      handlers = new Set();
      this.#topics.set(topic, handlers);
    }
    handlers.add(handler);
    return () => {
      handlers.delete(handler);
      if (handlers.size === 0 && this.#topics.get(topic) === handlers) this.#topics.delete(topic);
    };
  }

  /** Topics with at least one handler (for leak checks). */
  get topicCount(): number {
    return this.#topics.size;
  }

  close(): Promise<void> {
    this.#topics.clear();
    return Promise.resolve();
  }
}
