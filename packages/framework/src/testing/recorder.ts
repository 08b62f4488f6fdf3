/** An append-only log that a test can await conditions on, instead of sleeping. */
export class Recorder<T = string> {
  readonly entries: T[] = [];
  #waiters: { test: (entries: readonly T[]) => boolean; resolve: () => void }[] = [];

  push(entry: T): void {
    this.entries.push(entry);
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.test(this.entries)) return true;
      w.resolve();
      return false;
    });
  }

  /** Resolves once `test` holds for the entries (at once if it already does). */
  until(test: (entries: readonly T[]) => boolean): Promise<void> {
    if (test(this.entries)) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ test, resolve }));
  }

  /** Resolves once `entry` has been pushed `times` times in all. */
  untilCount(entry: T, times = 1): Promise<void> {
    return this.until((entries) => entries.filter((e) => e === entry).length >= times);
  }

  count(entry: T): number {
    return this.entries.filter((e) => e === entry).length;
  }
}
