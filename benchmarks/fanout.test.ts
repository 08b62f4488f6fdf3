import { expect, it } from 'vitest';
import { measure, measureLatency, subjects } from './run.js';

// Tests run on source; `pnpm bench` builds the framework first and runs the built one.
process.env['BENCH_FROM_SOURCE'] = '1';

// The short version CI runs: every server of the fan-out benchmark starts, takes its
// subscribers and delivers every message to every one of them (a missing frame hangs the
// count and fails the test). The figures are `pnpm bench fanout`'s subject, not this test's.
it.each(subjects.map((s) => [s.name, s] as const))(
  '%s delivers every message to every subscriber',
  async (_, subject) => {
    const sample = await measure(subject, { n: 20, messages: 5 });
    expect(Number.isFinite(sample.cpuUsPerDelivery)).toBe(true);
  },
);

// And the latency benchmark's timed path: messages on a schedule, every one stamped and
// delivered, with a subscriber that stopped reading beside the others.
it('the latency run delivers every timed message to every reading subscriber, a stalled one aside', async () => {
  const push = subjects.find((s) => s.name.startsWith('streampod push'))!;
  const latency = await measureLatency(push, { n: 10, rate: 100, seconds: 0.2, stalled: true });
  expect(latency.p50).toBeGreaterThan(0);
  expect(latency.max).toBeGreaterThanOrEqual(latency.p99);
});
