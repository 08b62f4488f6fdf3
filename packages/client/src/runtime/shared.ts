/**
 * Counts the users of something shared, and lets it go a microtask after the last one
 * leaves unless someone came back by then: React StrictMode unmounts and mounts again at
 * once, and a server subscription should survive that rather than close and reopen.
 */
export class RefCount {
  #count = 0;

  constructor(
    private readonly onFirst: () => void,
    private readonly onIdle: () => void,
  ) {}

  get count(): number {
    return this.#count;
  }

  /**
   * One more user; returns its release, which does something only the first time. A
   * release with `now` lets go at once when it was the last (an explicit unsubscribe, not
   * a re-render).
   */
  acquire(): (now?: boolean) => void {
    if (this.#count++ === 0) this.onFirst();
    let released = false;
    return (now = false) => {
      if (released) return;
      released = true;
      this.#count--;
      if (now) {
        if (this.#count === 0) this.onIdle();
        return;
      }
      queueMicrotask(() => {
        if (this.#count === 0) this.onIdle();
      });
    };
  }
}

/**
 * Values shared by key (one room view per room, one subscription per id set): made by the
 * first `acquire` of a key, disposed a microtask after its last release (see `RefCount`).
 */
export class SharedByKey<TKey, TValue> {
  readonly #entries = new Map<TKey, { value: TValue; refs: RefCount }>();

  constructor(
    private readonly create: (key: TKey) => TValue,
    private readonly dispose: (value: TValue, key: TKey) => void,
  ) {}

  /** The value of `key` while someone holds it. */
  get(key: TKey): TValue | undefined {
    return this.#entries.get(key)?.value;
  }

  values(): IterableIterator<TValue> {
    return [...this.#entries.values()].map((e) => e.value)[Symbol.iterator]();
  }

  /** Holds `key`'s value (making it if needed) until `release` is called (see `RefCount.acquire`). */
  acquire(key: TKey): { value: TValue; release: (now?: boolean) => void } {
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      const value = this.create(key);
      const created: { value: TValue; refs: RefCount } = {
        value,
        refs: new RefCount(
          () => undefined,
          () => {
            if (this.#entries.get(key) !== created) return;
            this.#entries.delete(key);
            this.dispose(value, key);
          },
        ),
      };
      this.#entries.set(key, (entry = created));
    }
    return { value: entry.value, release: entry.refs.acquire() };
  }
}

/**
 * A hook store's `subscribe` (React's `useSyncExternalStore`, Vue watchers) over a shared
 * value: holds `key`'s value while `listen` runs; the returned stop works once.
 */
export function holdWhileListening<TKey, TValue>(
  shared: SharedByKey<TKey, TValue>,
  key: TKey,
  listen: (value: TValue, listener: () => void) => () => void,
): (listener: () => void) => () => void {
  return (listener) => {
    const { value, release } = shared.acquire(key);
    const stop = listen(value, listener);
    let stopped = false;
    return () => {
      if (stopped) return;
      stopped = true;
      stop();
      release();
    };
  };
}
