import { MemoryPresenceStore } from './memory-presence-store.js';
import { presenceStoreCases } from './presence-store.case.js';

presenceStoreCases('memory', () => Promise.resolve(new MemoryPresenceStore()));
