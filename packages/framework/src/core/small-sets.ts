/**
 * A small set held as cheaply as it can be: nothing, one value as itself, or a `Set` once
 * there are two. Most keys that own such sets (a user's connections, a connection's
 * streams) hold one value, and a `Set` with its table is ~230 bytes.
 *
 * The value type must not itself be a `Set`.
 */
export type SmallSet<V> = V | Set<V> | undefined;

const NONE: readonly never[] = [];

/** Where small sets are kept by key: a `Map`, or a `WeakMap` when the keys are objects that may go. */
export interface SmallSetStore<K, V> {
  get(key: K): V | Set<V> | undefined;
  set(key: K, value: V | Set<V>): unknown;
  delete(key: K): boolean;
}

/** Adds `value` to `key`'s set in `store`. */
export function addTo<K, V>(store: SmallSetStore<K, V>, key: K, value: V): void {
  const held = store.get(key);
  if (held === undefined) store.set(key, value);
  else if (held instanceof Set) held.add(value);
  else if (held !== value) store.set(key, new Set([held, value]));
}

/** Removes `value` from `key`'s set in `store` (the key goes with its last value); whether it was there. */
export function removeFrom<K, V>(store: SmallSetStore<K, V>, key: K, value: V): boolean {
  const held = store.get(key);
  if (held === value) return store.delete(key);
  if (!(held instanceof Set) || !held.delete(value)) return false;
  if (held.size === 0) store.delete(key);
  return true;
}

/** The values of `held`, to iterate (not to change while iterating). */
export function valuesOf<V>(held: SmallSet<V>): Iterable<V> {
  return held === undefined ? NONE : held instanceof Set ? held : [held];
}

/** How many values `held` has. */
export function sizeOf<V>(held: SmallSet<V>): number {
  return held === undefined ? 0 : held instanceof Set ? held.size : 1;
}

/** Sets of values by key, each a `SmallSet`: for keys that nearly always hold one value. */
export class SetMap<K, V> {
  readonly #map = new Map<K, V | Set<V>>();

  add(key: K, value: V): void {
    addTo(this.#map, key, value);
  }

  /** Removes `value` from `key`'s set; the key goes with its last value. */
  delete(key: K, value: V): void {
    removeFrom(this.#map, key, value);
  }

  get(key: K): Iterable<V> {
    return valuesOf(this.#map.get(key));
  }

  count(key: K): number {
    return sizeOf(this.#map.get(key));
  }

  has(key: K): boolean {
    return this.#map.has(key);
  }

  keys(): IterableIterator<K> {
    return this.#map.keys();
  }

  clear(): void {
    this.#map.clear();
  }
}
