import { expect, it } from 'vitest';
import { fanoutBusCases } from './fanout-bus.case.js';
import { MemoryFanoutBus } from './memory-fanout-bus.js';

fanoutBusCases(
  'memory',
  () => Promise.resolve(new MemoryFanoutBus()),
  () => Promise.resolve(),
);

it('forgets a topic once its last handler is gone', () => {
  const bus = new MemoryFanoutBus();
  const stop = bus.subscribe('t', () => undefined);
  expect(bus.topicCount).toBe(1);
  stop();
  expect(bus.topicCount).toBe(0);
});
