import { describe, expect, it } from 'vitest';
import { jitteredBackoff } from './backoff.js';

describe('jitteredBackoff', () => {
  it('doubles the ceiling per attempt up to the maximum, and jitters within [½, 1] of it', () => {
    const low = jitteredBackoff({ initialDelayMs: 100, maxDelayMs: 1000 }, () => 0);
    const high = jitteredBackoff({ initialDelayMs: 100, maxDelayMs: 1000 }, () => 1);
    expect([0, 1, 2, 3, 4, 10].map(low)).toEqual([50, 100, 200, 400, 500, 500]);
    expect([0, 1, 2, 3, 4, 10].map(high)).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('spreads clients that failed together', () => {
    const delays = new Set(Array.from({ length: 50 }, () => jitteredBackoff()(3)));
    expect(delays.size).toBeGreaterThan(10);
  });
});
