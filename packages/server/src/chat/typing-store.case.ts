import { describe, expect, it } from 'vitest';
import type { TypingStore } from './typing-store.js';

/** The stores of `count` nodes sharing one backend, fresh for one test. */
export type TypingStoreNodes = (count: number) => Promise<TypingStore[]>;

/** Resolves after `ms` of wall time: typing is a clock, and this case is about the clock running out. */
const elapse = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The conformance suite every TypingStore passes (memory, one Redis, a Redis Cluster). */
export function typingStoreCases(name: string, nodes: TypingStoreNodes) {
  describe(`TypingStore: ${name}`, () => {
    const room = 7;

    it('starts once per user however many devices and nodes type, and stops once', async () => {
      const [a, b] = await nodes(2);
      const first = await a!.start({ roomId: room, userId: 1, ttlMs: 5_000 });
      expect(first.started).toBe(true);
      // The same user on another device, on another node: a refresh, not a second typer.
      const again = await b!.start({ roomId: room, userId: 1, ttlMs: 5_000 });
      expect(again).toEqual({ started: false, version: first.version });
      expect(await a!.roomsOf(1)).toEqual([room]);
      const [stopA, stopB] = await Promise.all([
        a!.stop({ roomId: room, userId: 1 }),
        b!.stop({ roomId: room, userId: 1 }),
      ]);
      expect([stopA.stopped, stopB.stopped].filter(Boolean)).toHaveLength(1);
      expect(Math.max(stopA.version, stopB.version)).toBeGreaterThan(first.version);
      expect(await b!.roomsOf(1)).toEqual([]);
    });

    it('gives every start and stop of a room a higher version', async () => {
      const [a, b] = await nodes(2);
      const versions: number[] = [];
      for (let i = 0; i < 6; i++) {
        const store = i % 2 === 0 ? a! : b!;
        versions.push((await store.start({ roomId: room, userId: 1 + (i % 3), ttlMs: 5_000 })).version);
        versions.push((await store.stop({ roomId: room, userId: 1 + (i % 3) })).version);
      }
      expect([...versions].sort((x, y) => x - y)).toEqual(versions);
      expect(new Set(versions).size).toBe(versions.length);
    });

    it('ends by itself: exactly one of the nodes that notice expires it; a refresh pushes the end back', async () => {
      const [a, b, c] = await nodes(3);
      const start = await a!.start({ roomId: room, userId: 1, ttlMs: 100 });
      expect(await b!.expire({ roomId: room, userId: 1 })).toMatchObject({ state: 'typing' });
      await elapse(60);
      await c!.start({ roomId: room, userId: 1, ttlMs: 100 }); // still typing: the end moves
      await elapse(60);
      const early = await b!.expire({ roomId: room, userId: 1 });
      expect(early.state).toBe('typing');
      if (early.state === 'typing') await elapse(early.remainingMs + 5);
      const results = await Promise.all([a!, b!, c!].map((s) => s.expire({ roomId: room, userId: 1 })));
      const expired = results.filter((r) => r.state === 'expired');
      expect(expired).toHaveLength(1);
      expect(results.filter((r) => r.state === 'gone')).toHaveLength(2);
      expect(expired[0]).toMatchObject({ version: expect.any(Number) as number });
      if (expired[0]?.state === 'expired') expect(expired[0].version).toBeGreaterThan(start.version);
      expect(await a!.roomsOf(1)).toEqual([]);
      // After it ran out, typing again is a new start.
      expect((await b!.start({ roomId: room, userId: 1, ttlMs: 100 })).started).toBe(true);
    });

    it('a stop for someone not typing changes nothing', async () => {
      const [a] = await nodes(1);
      expect((await a!.stop({ roomId: room, userId: 9 })).stopped).toBe(false);
      expect(await a!.expire({ roomId: room, userId: 9 })).toEqual({ state: 'gone' });
    });

    it('lists the rooms a user types in', async () => {
      const [a, b] = await nodes(2);
      await a!.start({ roomId: 1, userId: 5, ttlMs: 5_000 });
      await b!.start({ roomId: 2, userId: 5, ttlMs: 5_000 });
      expect((await a!.roomsOf(5)).sort()).toEqual([1, 2]);
    });
  });
}
