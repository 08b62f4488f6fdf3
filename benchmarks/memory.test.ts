import { expect, it } from 'vitest';
import { measureChatMemory } from './chat-memory.js';
import { describeMemory, measureFrameworkMemory } from './memory.js';

// What an idle connection retains, after GC, measured the way `pnpm bench memory` does it
// (smaller counts). The bounds sit a quarter to a half above what these counts measure
// (2026-12-04, evening: 0.74 KB and 0.40 KB; 2.84 KB, 1.11 KB and 0.49 KB): a per-connection
// leak or a closure too many fails here.

it('an idle framework connection retains under 1 KB, its push subscription under 0.6 KB', async () => {
  const m = await measureFrameworkMemory([500, 2_000]);
  console.info(describeMemory('framework', 'push subscription', m));
  expect(m.slopeKb).toBeGreaterThan(0.3); // the measurement sees connections at all
  expect(m.slopeKb).toBeLessThan(1);
  expect(m.perSubscriptionKb).toBeLessThan(0.6);
}, 60_000);

it('an idle signed-in chat connection with chat.stream retains under 4 KB, a presence watch of 10 under 1.5 KB, a room presence stream under 0.6 KB', async () => {
  const m = await measureChatMemory([500, 2_000]);
  console.info(
    describeMemory('chat', 'presence watch of 10', m) + `, ${m.roomPresenceKb.toFixed(2)} KB per room presence`,
  );
  expect(m.slopeKb).toBeGreaterThan(1);
  expect(m.slopeKb).toBeLessThan(4);
  expect(m.perSubscriptionKb).toBeLessThan(1.5);
  expect(m.roomPresenceKb).toBeGreaterThan(0.2); // the measurement sees the streams at all
  expect(m.roomPresenceKb).toBeLessThan(0.6);
}, 120_000);
