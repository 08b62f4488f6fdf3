import { expect, it } from 'vitest';
import { runSoak } from './soak.js';

// The short version of `pnpm soak` (which runs minutes): load with churn over real sockets,
// and the heap after GC at the end within 10 % of where it stood after the warm-up.
it('keeps its heap within 10 % over steady load with churn', async () => {
  const result = await runSoak({ seconds: 20, users: 60 });
  expect(result.messagesSent).toBeGreaterThan(500);
  expect(result.eventsReceived).toBeGreaterThan(result.messagesSent);
  expect(result.connects).toBeGreaterThan(200);
  expect(result.errors).toBe(0);
  expect(result.ratio).toBeLessThanOrEqual(1.1);
}, 120_000);
