import { interned } from '../core/interned.js';
import type { FanoutBus } from './fanout-bus.js';

/** Up to this many items, a key keeps them in an array: a Set of ten costs ~550 bytes, an array ~100. */
const LISTED = 16;

/** A key's items once they all left, its subscription still on its way. */
const NONE: readonly never[] = [];

/** A key's items: one as itself (most keys: a user's one stream on a node, one watcher), more listed, many in a Set. */
type Items<TItem> = TItem | readonly TItem[] | Set<TItem>;

interface Entry<TKey, TItem, TData> {
  readonly key: TKey;
  /**
   * One item as itself (an array of one is 56 bytes), an array while few, replaced (not
   * changed) when one comes or leaves: a delivery iterating it goes on undisturbed (and may
   * still reach the one that left), and it holds no spare room (`push` and `filter` leave
   * room for up to 16 more; `concat` and `slice` do not). A Set beyond `LISTED`.
   */
  items: Items<TItem>;
  /**
   * The bus subscription on its way, then (live) what ends it: `UNSUBSCRIBE` when the bus can
   * be told the topic and handler instead. One field for both: a settled promise kept per key
   * is ~40 bytes, and a slot 8.
   */
  subscription: Promise<void> | (() => void);
  /** The owner's per-key state (see `data`). */
  data: TData | undefined;
}

/** Stands for `bus.unsubscribe(topic, handler)`: the key keeps no function of its own. */
const UNSUBSCRIBE = (): void => undefined;

/** A new key's subscription while `bus.subscribe` is still being called: not live (never settles). */
const PENDING = new Promise<void>(() => undefined);

/**
 * Local items (watchers, streams) indexed by key, each key backed by one bus subscription
 * for as long as it has items: the first item subscribes, the last one leaving
 * unsubscribes. A value published on a key's topic reaches `deliver` once, however many
 * local items there are. Every key's subscription shares one handler (the bus tells it the
 * topic), so a key costs its entry and its items, not a closure too. A key's one item is
 * kept as itself, so an item may not be an array or a Set; a key with one item hands it to
 * `deliver` in an array of its own (one small array per value and key on the node, not per
 * item).
 */
export class TopicIndex<TKey, TItem, TValue, TData = never> {
  readonly #bus: FanoutBus;
  readonly #topic: (key: TKey) => string;
  readonly #deliver: (key: TKey, value: TValue, items: Iterable<TItem>) => void;
  /** By topic, as the bus names them. An entry whose items left before it was live stays until it is. */
  readonly #entries = new Map<string, Entry<TKey, TItem, TData>>();

  constructor(opts: {
    bus: FanoutBus;
    topic: (key: TKey) => string;
    deliver: (key: TKey, value: TValue, items: Iterable<TItem>) => void;
  }) {
    this.#bus = opts.bus;
    this.#topic = opts.topic;
    this.#deliver = opts.deliver;
  }

  readonly #handler = (value: TValue, topic: string): void => {
    const entry = this.#entries.get(topic);
    if (entry !== undefined && countOf(entry.items) > 0) this.#deliver(entry.key, value, listOf(entry.items));
  };

  /** Adds `item` under `key`; resolves once the key's subscription is live. */
  async add(key: TKey, item: TItem): Promise<void> {
    if (Array.isArray(item) || item instanceof Set)
      throw new TypeError('TopicIndex: an item may not be an array or a Set');
    const topic = this.#topic(key);
    let entry = this.#entries.get(topic);
    if (entry === undefined) {
      // Kept for as long as the key has items, here and by the bus: flat, once (see `interned`).
      const name = interned(topic);
      entry = { key, items: NONE, subscription: PENDING, data: undefined };
      this.#entries.set(name, entry);
      entry.subscription = this.#subscribe(name, entry);
    }
    const items = entry.items;
    if (items instanceof Set) items.add(item);
    else if (!isList(items)) {
      if (items !== item) entry.items = [items, item];
    } else if (items.length === 0) entry.items = item;
    else if (!items.includes(item)) {
      if (items.length < LISTED) entry.items = items.concat([item]);
      else entry.items = new Set(items).add(item);
    }
    if (entry.subscription instanceof Promise) await entry.subscription;
  }

  /**
   * One bus subscription per topic at a time: items that all left before it was live leave
   * their entry in place, so one coming back meanwhile waits for the same subscription, and
   * the handler never hears a topic twice.
   */
  async #subscribe(topic: string, entry: Entry<TKey, TItem, TData>): Promise<void> {
    // An entry on its way is never removed or replaced (see `remove`, `clear`): it is still the topic's here.
    let stop: () => void;
    try {
      stop = await this.#bus.subscribe<TValue>(topic, this.#handler);
    } catch (error) {
      this.#entries.delete(topic);
      throw error;
    }
    if (countOf(entry.items) > 0) entry.subscription = this.#bus.unsubscribe === undefined ? stop : UNSUBSCRIBE;
    else {
      this.#entries.delete(topic);
      stop();
    }
  }

  #stop(topic: string, entry: Entry<TKey, TItem, TData>): void {
    if (entry.subscription === UNSUBSCRIBE) this.#bus.unsubscribe!(topic, this.#handler);
    else if (!(entry.subscription instanceof Promise)) entry.subscription();
  }

  /** Removes `item` from `key`; the last one out ends the subscription. */
  remove(key: TKey, item: TItem): void {
    const topic = this.#topic(key);
    const entry = this.#entries.get(topic);
    if (entry === undefined) return;
    const items = entry.items;
    if (items instanceof Set) {
      if (!items.delete(item) || items.size > 0) return;
    } else if (!isList(items)) {
      if (items !== item) return;
      entry.items = NONE;
    } else {
      const at = items.indexOf(item);
      if (at < 0) return;
      // Two become one, kept as itself.
      if (items.length === 2) entry.items = items[1 - at]!;
      else entry.items = items.length === 1 ? NONE : items.slice(0, at).concat(items.slice(at + 1));
      if (entry.items !== NONE) return;
    }
    // Not live yet: `#subscribe` ends it once it is, unless an item came back (to no data).
    entry.data = undefined;
    if (entry.subscription instanceof Promise) return;
    this.#entries.delete(topic);
    this.#stop(topic, entry);
  }

  /** The items under `key`, if any (not to be changed: iterate them). */
  get(key: TKey): Iterable<TItem> | undefined {
    const entry = this.#entries.get(this.#topic(key));
    return entry === undefined || countOf(entry.items) === 0 ? undefined : listOf(entry.items);
  }

  /**
   * State the owner keeps per key (the last value it passed on, say), dropped with the key
   * when its last item leaves: one entry per key instead of a map of the owner's beside it.
   */
  data(key: TKey): TData | undefined {
    return this.#entries.get(this.#topic(key))?.data;
  }

  /** Sets `key`'s state; nothing when the key has no entry. */
  setData(key: TKey, data: TData): void {
    const entry = this.#entries.get(this.#topic(key));
    if (entry !== undefined) entry.data = data;
  }

  /** How many items `key` has. */
  count(key: TKey): number {
    const items = this.#entries.get(this.#topic(key))?.items;
    return items === undefined ? 0 : countOf(items);
  }

  /** Every key with items. */
  *keys(): IterableIterator<TKey> {
    for (const entry of this.#entries.values()) if (countOf(entry.items) > 0) yield entry.key;
  }

  /** Keys with a bus subscription, live or on its way (for leak checks). */
  get size(): number {
    return this.#entries.size;
  }

  /** Drops every item and subscription. */
  clear(): void {
    for (const [topic, entry] of [...this.#entries]) {
      entry.items = NONE;
      if (entry.subscription instanceof Promise) continue;
      this.#entries.delete(topic);
      this.#stop(topic, entry);
    }
  }
}

function isList<T>(items: Items<T>): items is readonly T[] {
  return Array.isArray(items);
}

function countOf<T>(items: Items<T>): number {
  return items instanceof Set ? items.size : isList(items) ? items.length : 1;
}

/** The items to iterate: one is handed over in an array of its own (a delivery or a lookup, not kept). */
function listOf<T>(items: Items<T>): Iterable<T> {
  return items instanceof Set || isList(items) ? items : [items];
}
