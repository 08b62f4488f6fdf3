import { randomUUID } from 'node:crypto';
import { onTestFinished } from 'vitest';
import { RedisFanoutBus } from '../fanout/redis-fanout-bus.js';
import { createLogger } from '../observability/logger.js';
import { RedisLink } from '../redis/redis-link.js';

/** The machine's shared Redis: fine for tests that neither stop it nor flush it. */
export const sharedRedisUrl = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';

export const testLog = createLogger(
  process.env['TEST_LOG_LEVEL'] === undefined ? 'silent' : (process.env['TEST_LOG_LEVEL'] as 'info'),
);

/** A Redis link closed when the current test finishes. */
export async function testRedisLink(url: string): Promise<RedisLink> {
  const link = await RedisLink.connect({ url, log: testLog, maxRetryDelayMs: 100 });
  onTestFinished(() => link.close());
  return link;
}

/** A unique key and channel prefix, so tests on a shared Redis never meet. */
export const testPrefix = () => `sptest:${randomUUID().slice(0, 8)}:`;

/** The buses of `count` nodes on the Redis at `url`, each with its own link. */
export async function redisBuses(url: string, count: number): Promise<RedisFanoutBus[]> {
  const prefix = testPrefix();
  return Promise.all(
    Array.from({ length: count }, async (_v, i) =>
      RedisFanoutBus.create({ link: await testRedisLink(url), nodeId: `node${i}`, log: testLog, prefix }),
    ),
  );
}
