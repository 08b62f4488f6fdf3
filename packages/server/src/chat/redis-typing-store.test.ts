import { describe } from 'vitest';
import { privateRedis, testPrefix, testRedisLink } from '../testing/redis-nodes.js';
import { RedisTypingStore } from './redis-typing-store.js';
import { typingStoreCases } from './typing-store.case.js';

const stores = async (url: string, count: number) => {
  const prefix = testPrefix();
  return Promise.all(
    Array.from(
      { length: count },
      async () => new RedisTypingStore({ commands: (await testRedisLink(url)).commands, prefix }),
    ),
  );
};

describe('on one Redis', () => {
  const url = privateRedis();
  typingStoreCases('one Redis', (count) => stores(url(), count));
});

describe('on a Redis Cluster of three masters', () => {
  const url = privateRedis('cluster');
  typingStoreCases('a Redis Cluster', (count) => stores(url(), count));
});
