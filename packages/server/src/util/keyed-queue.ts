/**
 * Runs work one at a time per key, in call order, so that one user's updates (and the events
 * they publish) cannot overtake each other while different users' run side by side. A
 * failed task does not stop the ones queued after it.
 */
export class KeyedQueue<TKey> {
  readonly #tails = new Map<TKey, Promise<unknown>>();

  run<T>(key: TKey, work: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    const next = previous.then(work, work);
    this.#tails.set(key, next);
    // Forget a key once its last task settled, so idle keys cost nothing.
    void next
      .finally(() => {
        if (this.#tails.get(key) === next) this.#tails.delete(key);
      })
      .catch(() => undefined);
    return next;
  }

  /** Keys with work queued or running (for leak checks). */
  get size(): number {
    return this.#tails.size;
  }
}
