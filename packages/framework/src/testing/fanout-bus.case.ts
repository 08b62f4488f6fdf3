import { describe, expect, it } from 'vitest';
import { Recorder } from './recorder.js';
import type { FanoutBus } from '../fanout/fanout-bus.js';

/** Buses of `count` nodes on one backend, fresh for one test. */
export type FanoutBusNodes = (count: number) => Promise<FanoutBus[]>;

let seq = 0;
/** A topic of its own per test, so tests on a shared backend cannot hear each other. */
const freshTopic = (name: string) => `case:${process.pid}:${++seq}:${name}`;

/**
 * The conformance suite every FanoutBus passes (memory, one Redis, a Redis Cluster): run
 * it with a factory that returns the buses of `count` nodes sharing one backend.
 */
export function fanoutBusCases(name: string, nodes: FanoutBusNodes) {
  describe(`FanoutBus: ${name}`, () => {
    it('delivers to every handler of a topic on every node, once each, and to no other topic', async () => {
      const [a, b] = await nodes(2);
      await using _ = closing(a!, b!);
      const t = freshTopic('a');
      const other = freshTopic('b');
      const seen = new Recorder<string>();
      await a!.subscribe<number>(t, (v) => seen.push(`a1:${v}`));
      await a!.subscribe<number>(t, (v) => seen.push(`a2:${v}`));
      await b!.subscribe<number>(t, (v) => seen.push(`b:${v}`));
      await b!.subscribe<number>(other, (v) => seen.push(`other:${v}`));
      a!.publish(t, 1);
      b!.publish(t, 2);
      await seen.until((all) => all.length >= 6);
      expect([...seen.entries].sort()).toEqual(['a1:1', 'a1:2', 'a2:1', 'a2:2', 'b:1', 'b:2']);
      // Markers behind the values: once they are in, nothing else can be on its way.
      a!.publish(t, 3);
      await seen.until((all) => all.includes('b:3') && all.includes('a1:3'));
      expect(seen.entries.filter((e) => e.startsWith('other:'))).toEqual([]);
      expect(seen.entries).toHaveLength(9);
    });

    it('hands the publishing node its own value at once, before publish returns', async () => {
      const [a] = await nodes(1);
      await using _ = closing(a!);
      const t = freshTopic('sync');
      const seen: number[] = [];
      await a!.subscribe<number>(t, (v) => seen.push(v));
      a!.publish(t, 7);
      expect(seen).toEqual([7]);
    });

    it('tells a handler the topic of each value, so one handler can serve many topics', async () => {
      const [a, b] = await nodes(2);
      await using _ = closing(a!, b!);
      const t1 = freshTopic('one');
      const t2 = freshTopic('two');
      const seen = new Recorder<string>();
      const handler = (v: number, topic: string) =>
        seen.push(`${topic === t1 ? 't1' : topic === t2 ? 't2' : topic}:${v}`);
      await b!.subscribe<number>(t1, handler);
      await b!.subscribe<number>(t2, handler);
      a!.publish(t1, 1);
      a!.publish(t2, 2);
      b!.publish(t2, 3);
      await seen.until((all) => all.length >= 3);
      expect([...seen.entries].sort()).toEqual(['t1:1', 't2:2', 't2:3']);
    });

    it('keeps Dates and nested values intact across nodes', async () => {
      const [a, b] = await nodes(2);
      await using _ = closing(a!, b!);
      const t = freshTopic('dates');
      const seen = new Recorder<unknown>();
      await b!.subscribe(t, (v) => seen.push(v));
      const value = { at: new Date('2026-01-01T00:00:00Z'), list: [1, { deep: true }], none: undefined };
      a!.publish(t, value);
      await seen.until((all) => all.length === 1);
      expect(seen.entries[0]).toEqual(value);
      expect((seen.entries[0] as { at: unknown }).at).toBeInstanceOf(Date);
    });

    it('stops a handler that unsubscribed, and forgets a topic once its last handler is gone', async () => {
      const [a, b] = await nodes(2);
      await using _ = closing(a!, b!);
      const t = freshTopic('stop');
      const seen = new Recorder<string>();
      const before = b!.topicCount;
      const stop1 = await b!.subscribe<number>(t, (v) => seen.push(`h1:${v}`));
      const stop2 = await b!.subscribe<number>(t, (v) => seen.push(`h2:${v}`));
      expect(b!.topicCount).toBe(before + 1);
      stop1();
      a!.publish(t, 1);
      await seen.until((all) => all.includes('h2:1'));
      expect(seen.entries).toEqual(['h2:1']);
      stop2();
      stop2(); // twice is harmless
      expect(b!.topicCount).toBe(before);
    });

    it('unsubscribe(topic, handler) ends that subscription as its stop function would (a bus that offers it)', async () => {
      const [a, b] = await nodes(2);
      await using _ = closing(a!, b!);
      // Optional in the interface; every bus of this repository offers it, so here it must be there.
      const unsubscribe = b!.unsubscribe?.bind(b);
      expect(unsubscribe).toBeTypeOf('function');
      const t = freshTopic('unsubscribe');
      const other = freshTopic('unsubscribe-other');
      const seen = new Recorder<string>();
      const shared = (v: number, topic: string) => seen.push(`${topic === t ? 't' : 'other'}:${v}`);
      const before = b!.topicCount;
      await b!.subscribe<number>(t, shared);
      await b!.subscribe<number>(other, shared);
      await b!.subscribe<number>(t, (v) => seen.push(`own:${v}`));
      // The same handler on another node stays: unsubscribe is the node's own.
      await a!.subscribe<number>(t, shared);
      unsubscribe!(t, shared);
      unsubscribe!(t, () => undefined); // a handler it does not have: nothing
      a!.publish(t, 1);
      a!.publish(other, 2);
      await seen.until((all) => all.includes('own:1') && all.includes('other:2'));
      expect([...seen.entries].sort()).toEqual(['other:2', 'own:1', 't:1']);
      unsubscribe!(other, shared);
      expect(b!.topicCount).toBe(before + 1);
    });

    it('one handler subscribed twice to a topic is two subscriptions: each stop function ends one, once', async () => {
      const [a, b] = await nodes(2);
      await using _ = closing(a!, b!);
      const t = freshTopic('twice');
      const seen = new Recorder<number>();
      const handler = (v: number) => seen.push(v);
      const before = b!.topicCount;
      const stop1 = await b!.subscribe<number>(t, handler);
      const stop2 = await b!.subscribe<number>(t, handler);
      a!.publish(t, 1);
      await seen.until((all) => all.length >= 2);
      stop1();
      stop1(); // a second call must not end the other subscription
      a!.publish(t, 2);
      a!.publish(t, 3);
      await seen.until((all) => all.includes(3));
      expect(seen.entries).toEqual([1, 1, 2, 3]);
      expect(b!.topicCount).toBe(before + 1);
      stop2();
      expect(b!.topicCount).toBe(before);
    });

    it('skips a handler removed by another during the same delivery', async () => {
      const [a, b] = await nodes(2);
      await using _ = closing(a!, b!);
      const t = freshTopic('during');
      const seen = new Recorder<string>();
      let stopSecond: () => void = () => undefined;
      await b!.subscribe<number>(t, (v) => {
        seen.push(`first:${v}`);
        stopSecond();
      });
      stopSecond = await b!.subscribe<number>(t, (v) => seen.push(`second:${v}`));
      a!.publish(t, 1);
      a!.publish(t, 2);
      await seen.until((all) => all.includes('first:2'));
      expect(seen.entries).toEqual(['first:1', 'first:2']);
    });

    it('a subscription is live once subscribe resolves: a value published right after arrives', async () => {
      const [a, b] = await nodes(2);
      await using _ = closing(a!, b!);
      const topics = Array.from({ length: 50 }, (_v, i) => freshTopic(`many${i}`));
      const seen = new Recorder<string>();
      await Promise.all(topics.map((t) => b!.subscribe<string>(t, (v) => seen.push(v))));
      for (const t of topics) a!.publish(t, t);
      await seen.until((all) => all.length === topics.length);
      expect([...seen.entries].sort()).toEqual([...topics].sort());
    });

    it('a closed node gets nothing more and refuses subscriptions; the others go on', async () => {
      const [a, b, c] = await nodes(3);
      await using _ = closing(a!, c!);
      const t = freshTopic('close');
      const seen = new Recorder<string>();
      await b!.subscribe<number>(t, (v) => seen.push(`b:${v}`));
      await c!.subscribe<number>(t, (v) => seen.push(`c:${v}`));
      await b!.close();
      a!.publish(t, 1);
      b!.publish(t, 2);
      await seen.until((all) => all.includes('c:1'));
      a!.publish(t, 3);
      await seen.until((all) => all.includes('c:3'));
      expect(seen.entries).toEqual(['c:1', 'c:3']);
      await expect(b!.subscribe(t, () => undefined)).rejects.toThrow(/closed/);
    });
  });
}

function closing(...buses: FanoutBus[]): AsyncDisposable {
  return { [Symbol.asyncDispose]: async () => void (await Promise.all(buses.map((b) => b.close()))) };
}
