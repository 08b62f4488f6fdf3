import { expect, it } from 'vitest';
import { measure, subjects } from './run.js';

// Tests run on source; `pnpm bench` builds the framework first and runs the built one.
process.env['BENCH_FROM_SOURCE'] = '1';

// The short version CI runs: every server of the fan-out benchmark starts, takes its
// subscribers and delivers every message to every one of them (a missing frame hangs the
// count and fails the test). The figures are `pnpm bench fanout`'s subject, not this test's.
it.each(subjects.map((s) => [s.name, s] as const))(
  '%s delivers every message to every subscriber',
  async (_, subject) => {
    const sample = await measure(subject, 20, 5);
    expect(Number.isFinite(sample.cpuUsPerDelivery)).toBe(true);
  },
);
