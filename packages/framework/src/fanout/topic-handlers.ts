import type { BusHandler } from './fanout-bus.js';

type Held = BusHandler<never> | readonly BusHandler<never>[];

/**
 * A bus's handlers by topic, for a `FanoutBus` to keep its subscriptions in: a topic's one
 * handler as itself, more in an array replaced (not changed) when one comes or goes. Most
 * topics have one handler on a node, a `TopicIndex`'s, shared by all its topics, so a topic
 * costs its map entry and nothing else (an object per subscription was 32–48 bytes a topic,
 * a user watched or a room followed on the node).
 *
 * Subscriptions of one handler to one topic are alike, so they are not told apart: each adds
 * the handler once more, and ending one removes one. Made for a few handlers per topic (an
 * index's one, a test's several nodes): each change copies the topic's array, and a delivery
 * checks each handler after the first is still there (skipping one removed meanwhile, unless
 * another subscription of it remains). A handler added during a delivery gets the next value.
 */
export class TopicHandlers {
  readonly #held = new Map<string, Held>();

  /** Adds one subscription of `handler` to `topic`. */
  add(topic: string, handler: BusHandler<never>): void {
    const held = this.#held.get(topic);
    if (held === undefined) this.#held.set(topic, handler);
    else this.#held.set(topic, typeof held === 'function' ? [held, handler] : [...held, handler]);
  }

  /** Removes one subscription of `handler` to `topic`; whether there was one. */
  remove(topic: string, handler: BusHandler<never>): boolean {
    const held = this.#held.get(topic);
    if (held === handler) return this.#held.delete(topic);
    if (held === undefined || typeof held === 'function') return false;
    const at = held.indexOf(handler);
    if (at === -1) return false;
    const rest = held.filter((_, i) => i !== at);
    this.#held.set(topic, rest.length === 1 ? rest[0]! : rest);
    return true;
  }

  /**
   * Calls every handler of `topic` with `value`, through `guard` when given (to catch what a
   * handler throws). A handler that an earlier one removed during this delivery is skipped.
   */
  deliver<T>(topic: string, value: T, guard?: (handler: BusHandler<T>, value: T, topic: string) => void): void {
    const held = this.#held.get(topic) as BusHandler<T> | readonly BusHandler<T>[] | undefined;
    if (held === undefined) return;
    if (typeof held === 'function') {
      if (guard === undefined) held(value, topic);
      else guard(held, value, topic);
      return;
    }
    for (let i = 0; i < held.length; i++) {
      const handler = held[i]!;
      if (i > 0 && !this.#has(topic, handler)) continue;
      if (guard === undefined) handler(value, topic);
      else guard(handler, value, topic);
    }
  }

  #has(topic: string, handler: BusHandler<never>): boolean {
    const now = this.#held.get(topic);
    return now === handler || (now !== undefined && typeof now !== 'function' && now.includes(handler));
  }

  has(topic: string): boolean {
    return this.#held.has(topic);
  }

  /** Topics with at least one handler. */
  get size(): number {
    return this.#held.size;
  }

  topics(): IterableIterator<string> {
    return this.#held.keys();
  }

  clear(): void {
    this.#held.clear();
  }
}

/**
 * A subscription's stop function: runs `drop` once, however often it is called (a second call
 * must not end another subscription of the same handler, see `TopicHandlers`).
 */
export function stopOnce(drop: () => void): () => void {
  let stopped = false;
  return () => {
    if (stopped) return;
    stopped = true;
    drop();
  };
}
