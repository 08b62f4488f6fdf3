import { fanoutBusCases } from '../testing/fanout-bus.case.js';
import { MemoryFanoutBackend, MemoryFanoutBus } from './memory-fanout-bus.js';

fanoutBusCases('memory', (count) => {
  const backend = new MemoryFanoutBackend();
  return Promise.resolve(Array.from({ length: count }, () => new MemoryFanoutBus(backend)));
});
