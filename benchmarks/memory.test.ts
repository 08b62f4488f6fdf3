import { expect, it } from 'vitest';
import { measureChatMemory } from './chat-memory.js';
import { describeMemory, measureFrameworkMemory } from './memory.js';

// What an idle connection retains, after GC, measured the way `pnpm bench memory` does it
// (smaller counts). The bounds sit about a third above what these counts measure (2026-12-03:
// 1.18 KB and 0.49-0.51 KB; 5.13-5.17 KB and 2.17-2.21 KB): a per-connection leak or a
// closure too many fails here.

it('an idle framework connection retains under 1.6 KB, its push subscription under 0.7 KB', async () => {
  const m = await measureFrameworkMemory([500, 2_000]);
  console.info(describeMemory('framework', 'push subscription', m));
  expect(m.slopeKb).toBeGreaterThan(0.5); // the measurement sees connections at all
  expect(m.slopeKb).toBeLessThan(1.6);
  expect(m.perSubscriptionKb).toBeLessThan(0.7);
}, 60_000);

it('an idle signed-in chat connection with chat.stream retains under 7 KB, a presence watch of 10 under 3 KB', async () => {
  const m = await measureChatMemory([500, 2_000]);
  console.info(describeMemory('chat', 'presence watch of 10', m));
  expect(m.slopeKb).toBeGreaterThan(1);
  expect(m.slopeKb).toBeLessThan(7);
  expect(m.perSubscriptionKb).toBeLessThan(3);
}, 120_000);
