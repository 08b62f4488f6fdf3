import { MemoryTypingStore } from './memory-typing-store.js';
import { typingStoreCases } from './typing-store.case.js';

typingStoreCases('memory', (count) => {
  const shared = new MemoryTypingStore();
  return Promise.resolve(Array.from({ length: count }, () => shared));
});
