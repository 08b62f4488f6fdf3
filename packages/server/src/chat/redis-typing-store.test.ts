import { afterAll, beforeAll, describe } from 'vitest';
import { sharedRedisUrl, testPrefix, testRedisLink } from '../testing/redis-nodes.js';
import { startTestRedisCluster, type TestRedisCluster } from '../testing/redis-server.js';
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

typingStoreCases('one Redis', (count) => stores(sharedRedisUrl, count));

describe('on a Redis Cluster of three masters', () => {
  let cluster: TestRedisCluster;
  beforeAll(async () => {
    cluster = await startTestRedisCluster(3);
  }, 60_000);
  afterAll(() => cluster?.stop());
  typingStoreCases('a Redis Cluster', (count) => stores(cluster.url, count));
});
