import { expect, it } from 'vitest';
import { measureChatMemory } from './chat-memory.js';
import { measureFrameworkMemory } from './memory.js';

// What an idle connection retains, after GC, measured the way `pnpm bench memory` does it
// (smaller counts). The bounds sit about a third above the reference run's figures
// (docs/bench/README.md): a per-connection leak or a closure too many fails here.

it('an idle framework connection and its push subscription retain under 3 KB each', async () => {
  const m = await measureFrameworkMemory([500, 2_000]);
  expect(m.slopeKb).toBeGreaterThan(0.5); // the measurement sees connections at all
  expect(m.slopeKb).toBeLessThan(3);
  expect(m.perSubscriptionKb).toBeLessThan(3);
}, 60_000);

it('an idle signed-in chat connection with chat.stream retains under 9 KB, a presence watch under 8 KB', async () => {
  const m = await measureChatMemory([500, 2_000]);
  expect(m.slopeKb).toBeGreaterThan(1);
  expect(m.slopeKb).toBeLessThan(9);
  expect(m.perSubscriptionKb).toBeLessThan(8);
}, 120_000);
