/**
 * A FIFO mutex. Waiters are served in arrival order so that a burst of queries cannot starve
 * a transaction that is waiting for the connection.
 */
export class AsyncLock {
  #held = false;
  readonly #waiters: (() => void)[] = [];

  /** Resolves once the caller holds the lock; it must call `release()` exactly once. */
  async acquire(): Promise<void> {
    if (!this.#held) {
      this.#held = true;
      return;
    }
    await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  /** Hands the lock to the next waiter, or frees it. */
  release(): void {
    const next = this.#waiters.shift();
    // Ownership passes straight to the next waiter, so `#held` stays true and no newcomer can
    // slip in between.
    if (next) next();
    else this.#held = false;
  }
}
