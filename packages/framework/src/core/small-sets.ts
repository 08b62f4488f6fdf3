/**
 * A small set held as cheaply as it can be: nothing, one value as itself, or a `Set` once
 * there are two. Most keys that own such sets (a user's connections, a connection's
 * streams) hold one value, and a `Set` with its table is ~230 bytes.
 *
 * The value type must not itself be a `Set`.
 */
export type SmallSet<V> = V | Set<V> | undefined;

const NONE: readonly never[] = [];

/** `held` with `value` added (the same object when it was already a Set). */
export function addTo<V>(held: SmallSet<V>, value: V): V | Set<V> {
  if (held === undefined || held === value) return value;
  if (held instanceof Set) return held.add(value);
  return new Set([held, value]);
}

/** `held` without `value`: undefined once empty. */
export function removeFrom<V>(held: SmallSet<V>, value: V): SmallSet<V> {
  if (held === value) return undefined;
  if (!(held instanceof Set)) return held;
  held.delete(value);
  return held.size === 0 ? undefined : held;
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
    const held = this.#map.get(key);
    const next = addTo(held, value);
    if (next !== held) this.#map.set(key, next);
  }

  /** Removes `value` from `key`'s set; the key goes with its last value. */
  delete(key: K, value: V): void {
    const held = this.#map.get(key);
    const next = removeFrom(held, value);
    if (next === undefined) this.#map.delete(key);
    else if (next !== held) this.#map.set(key, next);
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
