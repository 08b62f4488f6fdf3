import { MemoryPresenceStore } from './memory-presence-store.js';
import { presenceStoreCases } from './presence-store.case.js';

presenceStoreCases('memory', (count, opts) => {
  const shared = new MemoryPresenceStore(opts);
  return Promise.resolve(Array.from({ length: count }, () => shared));
});
