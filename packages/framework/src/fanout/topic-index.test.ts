import { expect, it } from 'vitest';
import type { BusHandler, FanoutBus } from './fanout-bus.js';
import { MemoryFanoutBackend, MemoryFanoutBus } from './memory-fanout-bus.js';
import { TopicIndex } from './topic-index.js';

/** A memory bus whose subscriptions go live only when the test says so (as Redis's do, a round trip later). */
class GatedBus extends MemoryFanoutBus {
  readonly #gates: (() => void)[] = [];
  override async subscribe<T>(topic: string, handler: BusHandler<T>): Promise<() => void> {
    await new Promise<void>((open) => this.#gates.push(open));
    return super.subscribe(topic, handler);
  }
  openAll(): void {
    for (const open of this.#gates.splice(0)) open();
  }
}

function index(bus: MemoryFanoutBus) {
  const got: string[] = [];
  const topics = new TopicIndex<number, string, string>({
    bus,
    topic: (key) => `t:${key}`,
    deliver: (key, value, items) => got.push(`${key}:${value}:${[...items].join('+')}`),
  });
  return { topics, got };
}

it('delivers a key its own values, once, to its items, with one bus subscription per key', async () => {
  const backend = new MemoryFanoutBackend();
  const bus = new MemoryFanoutBus(backend);
  const { topics, got } = index(bus);
  await Promise.all([topics.add(1, 'a'), topics.add(1, 'b'), topics.add(2, 'c')]);
  expect(backend.topicCount).toBe(2);
  bus.publish('t:1', 'x');
  bus.publish('t:2', 'y');
  bus.publish('t:3', 'z');
  expect(got).toEqual(['1:x:a+b', '2:y:c']);
  topics.remove(1, 'a');
  topics.remove(1, 'b');
  expect(topics.get(1)).toBeUndefined();
  expect(backend.topicCount).toBe(1);
  bus.publish('t:1', 'gone');
  expect(got).toHaveLength(2);
  topics.clear();
  expect(backend.topicCount).toBe(0);
});

it('a key left and joined again before its subscription is live gets one subscription: values once', async () => {
  const backend = new MemoryFanoutBackend();
  const bus = new GatedBus(backend);
  const { topics, got } = index(bus);
  const first = topics.add(1, 'a');
  topics.remove(1, 'a');
  expect(topics.get(1)).toBeUndefined();
  const again = topics.add(1, 'b');
  bus.openAll();
  await Promise.all([first, again]);
  expect(backend.topicCount).toBe(1);
  bus.publish('t:1', 'x');
  expect(got).toEqual(['1:x:b']);
});

it('a key every item left before it was live ends its subscription once it is', async () => {
  const backend = new MemoryFanoutBackend();
  const bus = new GatedBus(backend);
  const { topics, got } = index(bus);
  const added = topics.add(1, 'a');
  topics.remove(1, 'a');
  expect(topics.size).toBe(1); // still on its way
  bus.openAll();
  await added;
  expect(topics.size).toBe(0);
  expect(backend.topicCount).toBe(0);
  bus.publish('t:1', 'x');
  expect(got).toEqual([]);
});

it('holds any number of items under a key, each once, and lets go of the key with the last', async () => {
  const backend = new MemoryFanoutBackend();
  const bus = new MemoryFanoutBus(backend);
  const { topics, got } = index(bus);
  const items = Array.from({ length: 40 }, (_, i) => `i${i}`);
  for (const item of items) await topics.add(1, item);
  await topics.add(1, 'i3'); // already there
  expect(topics.count(1)).toBe(40);
  bus.publish('t:1', 'x');
  expect(got).toEqual([`1:x:${items.join('+')}`]);
  for (const item of items.slice(0, 39)) topics.remove(1, item);
  topics.remove(1, 'never added');
  expect([...(topics.get(1) ?? [])]).toEqual(['i39']);
  topics.remove(1, 'i39');
  expect(topics.get(1)).toBeUndefined();
  expect(backend.topicCount).toBe(0);
});

it('ends a key’s subscription through its stop function on a bus without unsubscribe, as through unsubscribe on one with it', async () => {
  for (const offers of [true, false]) {
    const backend = new MemoryFanoutBackend();
    const memory = new MemoryFanoutBus(backend);
    const unsubscribed: string[] = [];
    const unsubscribe = memory.unsubscribe.bind(memory);
    memory.unsubscribe = (topic, handler) => {
      unsubscribed.push(topic);
      unsubscribe(topic, handler);
    };
    // Another team's bus may offer only `subscribe`'s stop function.
    const bus: FanoutBus = offers
      ? memory
      : {
          publish: (topic, value) => memory.publish(topic, value),
          subscribe: (topic, handler) => memory.subscribe(topic, handler),
          onResync: () => () => undefined,
          get topicCount() {
            return memory.topicCount;
          },
          close: () => memory.close(),
        };
    const got: string[] = [];
    const topics = new TopicIndex<number, string, string>({
      bus,
      topic: (key) => `t:${key}`,
      deliver: (key, value) => got.push(`${key}:${value}`),
    });
    await Promise.all([topics.add(1, 'a'), topics.add(2, 'b')]);
    topics.remove(1, 'a');
    expect(backend.topicCount).toBe(1);
    memory.publish('t:1', 'x');
    memory.publish('t:2', 'y');
    expect(got).toEqual(['2:y']);
    topics.clear();
    expect(backend.topicCount).toBe(0);
    expect(unsubscribed).toEqual(offers ? ['t:1', 't:2'] : []);
  }
});

it("keeps a key's data while it has items, and forgets it with the key", async () => {
  const bus = new MemoryFanoutBus();
  const topics = new TopicIndex<number, string, string, { last: string }>({
    bus,
    topic: (key) => `t:${key}`,
    deliver: (key, value) => topics.setData(key, { last: value }),
  });
  topics.setData(1, { last: 'before' });
  expect(topics.data(1)).toBeUndefined();
  await Promise.all([topics.add(1, 'a'), topics.add(1, 'b')]);
  bus.publish('t:1', 'x');
  expect(topics.data(1)).toEqual({ last: 'x' });
  topics.remove(1, 'a');
  expect(topics.data(1)).toEqual({ last: 'x' });
  topics.remove(1, 'b');
  await topics.add(1, 'c');
  expect(topics.data(1)).toBeUndefined();
  topics.clear();
  // A key whose items all left before it was live keeps its entry, not its data.
  const gated = new GatedBus();
  const early = new TopicIndex<number, string, string, string>({
    bus: gated,
    topic: (key) => `t:${key}`,
    deliver: () => undefined,
  });
  const first = early.add(1, 'a');
  early.setData(1, 'before');
  early.remove(1, 'a');
  const second = early.add(1, 'b');
  gated.openAll();
  await Promise.all([first, second]);
  expect(early.data(1)).toBeUndefined();
  early.clear();
});

it('hands a key’s items over as a list however many it holds: one, two, back to one, none', async () => {
  const backend = new MemoryFanoutBackend();
  const bus = new MemoryFanoutBus(backend);
  const { topics, got } = index(bus);
  await topics.add(1, 'a');
  await topics.add(1, 'a'); // already there: still one
  expect(topics.count(1)).toBe(1);
  expect([...topics.get(1)!]).toEqual(['a']);
  bus.publish('t:1', 'x');
  await topics.add(1, 'b');
  bus.publish('t:1', 'y');
  topics.remove(1, 'a');
  topics.remove(1, 'a'); // gone already: nothing
  expect([...topics.get(1)!]).toEqual(['b']);
  bus.publish('t:1', 'z');
  topics.remove(1, 'c'); // never there: nothing
  expect(topics.count(1)).toBe(1);
  topics.remove(1, 'b');
  expect(topics.get(1)).toBeUndefined();
  expect(backend.topicCount).toBe(0);
  bus.publish('t:1', 'gone');
  expect(got).toEqual(['1:x:a', '1:y:a+b', '1:z:b']);
  // One item is kept as itself, so an array or a Set could not be told from a list of items.
  await expect(topics.add(1, ['a'] as unknown as string)).rejects.toThrow('an item may not be an array or a Set');
  await expect(topics.add(1, new Set(['a']) as unknown as string)).rejects.toThrow(TypeError);
  expect(backend.topicCount).toBe(0);
});
