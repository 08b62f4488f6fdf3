import { describe } from 'vitest';
import { privateRedis, testPrefix, testRedisLink } from '../testing/redis-nodes.js';
import { presenceStoreCases } from './presence-store.case.js';
import { RedisPresenceStore } from './redis-presence-store.js';

const stores = async (url: string, count: number, opts: { claimTimeoutMs?: number } = {}) => {
  const prefix = testPrefix();
  return Promise.all(
    Array.from(
      { length: count },
      async () => new RedisPresenceStore({ commands: (await testRedisLink(url)).commands, prefix, ...opts }),
    ),
  );
};

describe('on one Redis', () => {
  const url = privateRedis();
  presenceStoreCases('one Redis', (count, opts) => stores(url(), count, opts));
});

describe('on a Redis Cluster of three masters', () => {
  const url = privateRedis('cluster');
  presenceStoreCases('a Redis Cluster', (count, opts) => stores(url(), count, opts));
});
