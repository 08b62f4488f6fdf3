/**
 * Lets the first of a kind through per window, then counts the rest: a flood of refused
 * calls or connections from one caller must not become a flood of log lines (the writes
 * would slow everyone else down), while metrics still count every one.
 */
export class RepeatGate {
  readonly #seen = new Map<string, { until: number; held: number }>();

  /** @param windowMs how long after a line the same kind stays quiet */
  constructor(
    readonly windowMs: number,
    /** Kinds remembered at most; beyond, the expired ones go (then all, if none had). */
    readonly maxKinds = 10_000,
  ) {}

  /**
   * `undefined`: hold this one back. A number: log it, adding that this many like it were
   * held back since the last line of its kind.
   */
  pass(kind: string, now = Date.now()): number | undefined {
    const entry = this.#seen.get(kind);
    if (entry !== undefined && now < entry.until) {
      entry.held++;
      return undefined;
    }
    if (entry === undefined && this.#seen.size >= this.maxKinds) this.#prune(now);
    this.#seen.set(kind, { until: now + this.windowMs, held: 0 });
    return entry?.held ?? 0;
  }

  #prune(now: number): void {
    for (const [kind, entry] of this.#seen) if (entry.until <= now) this.#seen.delete(kind);
    if (this.#seen.size >= this.maxKinds) this.#seen.clear();
  }
}
