import { createLogger, type Logger } from '@streampod/framework';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, onTestFinished } from 'vitest';
import { RedisFanoutBus } from '../fanout/redis-fanout-bus.js';
import { RedisLink } from '../redis/redis-link.js';
import { startTestRedis, startTestRedisCluster, type TestRedis, type TestRedisCluster } from './redis-server.js';

/**
 * A private Redis for the tests of this file (started before them, stopped after): tests
 * never touch the machine's shared Redis. Call at the top of a describe block; the
 * function it returns gives the URL.
 */
export function privateRedis(kind: 'single' | 'cluster' = 'single'): () => string {
  let server: TestRedis | TestRedisCluster | undefined;
  beforeAll(async () => {
    server = kind === 'single' ? await startTestRedis() : await startTestRedisCluster(3);
  }, 60_000);
  afterAll(async () => {
    await server?.[Symbol.asyncDispose]();
  });
  return () => {
    if (server === undefined) throw new Error('the private Redis has not started');
    return server.url;
  };
}

export const testLog: Logger = createLogger(
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
