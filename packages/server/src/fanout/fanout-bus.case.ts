import { describe, expect, it } from 'vitest';
import type { FanoutBus } from './fanout-bus.js';

/** The conformance suite every FanoutBus passes (memory now, Redis with scale-out). */
export function fanoutBusCases(name: string, create: () => Promise<FanoutBus>, settle: () => Promise<void>) {
  describe(`FanoutBus: ${name}`, () => {
    it('delivers to every handler of a topic, and to no other topic', async () => {
      const bus = await create();
      const seen: string[] = [];
      const stopA = bus.subscribe<number>('t:a', (v) => seen.push(`a1:${v}`));
      bus.subscribe<number>('t:a', (v) => seen.push(`a2:${v}`));
      bus.subscribe<number>('t:b', (v) => seen.push(`b:${v}`));
      await settle();
      bus.publish('t:a', 1);
      await settle();
      stopA();
      await settle();
      bus.publish('t:a', 2);
      await settle();
      expect(seen).toEqual(['a1:1', 'a2:1', 'a2:2']);
      await bus.close();
    });

    it('keeps Dates and nested values intact', async () => {
      const bus = await create();
      const seen: unknown[] = [];
      bus.subscribe('t:x', (v) => seen.push(v));
      await settle();
      const value = { at: new Date('2026-01-01T00:00:00Z'), list: [1, { deep: true }] };
      bus.publish('t:x', value);
      await settle();
      expect(seen).toEqual([value]);
      await bus.close();
    });
  });
}
