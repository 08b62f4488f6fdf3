import type { FanoutBus } from './fanout-bus.js';

interface Entry<TItem> {
  readonly items: Set<TItem>;
  /** The bus subscription: live once it resolves, with the function that stops it. */
  readonly subscription: Promise<() => void>;
}

/**
 * Local items (watchers, streams) indexed by key, each key backed by one bus subscription
 * for as long as it has items: the first item subscribes, the last one leaving
 * unsubscribes. A value published on a key's topic reaches `deliver` once, however many
 * local items there are.
 */
export class TopicIndex<TKey, TItem, TValue> {
  readonly #bus: FanoutBus;
  readonly #topic: (key: TKey) => string;
  readonly #deliver: (key: TKey, value: TValue, items: ReadonlySet<TItem>) => void;
  readonly #entries = new Map<TKey, Entry<TItem>>();

  constructor(opts: {
    bus: FanoutBus;
    topic: (key: TKey) => string;
    deliver: (key: TKey, value: TValue, items: ReadonlySet<TItem>) => void;
  }) {
    this.#bus = opts.bus;
    this.#topic = opts.topic;
    this.#deliver = opts.deliver;
  }

  /** Adds `item` under `key`; resolves once the key's subscription is live. */
  async add(key: TKey, item: TItem): Promise<void> {
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      const items = new Set<TItem>();
      const subscription = this.#bus.subscribe<TValue>(this.#topic(key), (value) => {
        if (items.size > 0) this.#deliver(key, value, items);
      });
      entry = { items, subscription };
      this.#entries.set(key, entry);
      subscription.catch(() => {
        if (this.#entries.get(key) === entry) this.#entries.delete(key);
      });
    }
    entry.items.add(item);
    await entry.subscription;
  }

  /** Removes `item` from `key`; the last one out ends the subscription. */
  remove(key: TKey, item: TItem): void {
    const entry = this.#entries.get(key);
    if (entry === undefined || !entry.items.delete(item) || entry.items.size > 0) return;
    this.#entries.delete(key);
    entry.subscription.then(
      (stop) => stop(),
      () => undefined,
    );
  }

  /** The items under `key`, if any. */
  get(key: TKey): ReadonlySet<TItem> | undefined {
    return this.#entries.get(key)?.items;
  }

  /** Every key with items. */
  keys(): IterableIterator<TKey> {
    return this.#entries.keys();
  }

  /** Keys with items (for leak checks). */
  get size(): number {
    return this.#entries.size;
  }

  /** Drops every item and subscription. */
  clear(): void {
    for (const key of [...this.#entries.keys()]) {
      const entry = this.#entries.get(key)!;
      for (const item of [...entry.items]) this.remove(key, item);
    }
  }
}
