/** Reconnect delays. */
export interface BackoffOptions {
  /**
   * First retry delay ceiling, in ms (the first retry waits 0…this).
   * @default 250
   */
  initialDelayMs?: number;
  /**
   * Largest delay, in ms.
   * @default 30_000
   */
  maxDelayMs?: number;
}

/**
 * Exponential backoff with jitter: attempt n waits a random time in [½, 1] × min(max,
 * initial × 2ⁿ), so that clients cut off together do not all come back together.
 */
export function jitteredBackoff(opts: BackoffOptions = {}, random: () => number = Math.random) {
  const initial = opts.initialDelayMs ?? 250;
  const max = opts.maxDelayMs ?? 30_000;
  return (attempt: number): number => {
    const ceiling = Math.min(max, initial * 2 ** attempt);
    return Math.round(ceiling * (0.5 + random() * 0.5));
  };
}
