import { MemoryPresenceStore } from './memory-presence-store.js';
import { presenceStoreCases } from './presence-store.case.js';

presenceStoreCases('memory', (count) => {
  const shared = new MemoryPresenceStore();
  return Promise.resolve(Array.from({ length: count }, () => shared));
});
