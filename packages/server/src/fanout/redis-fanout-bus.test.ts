import { Recorder, fanoutBusCases } from '@streampod/framework/testing';
import { describe, expect, it } from 'vitest';
import { privateRedis, redisBuses, testLog, testPrefix } from '../testing/redis-nodes.js';
import { startTestRedis } from '../testing/redis-server.js';
import { RedisLink } from '../redis/redis-link.js';
import { RedisFanoutBus } from './redis-fanout-bus.js';

describe('on one Redis', () => {
  const url = privateRedis();
  fanoutBusCases('one Redis', (count) => redisBuses(url(), count));
});

/** The shard connections behind a bus (one per master its channels live on). */
const links = (bus: RedisFanoutBus) => bus.link.shardCount;

describe('on a Redis Cluster of three masters', () => {
  const url = privateRedis('cluster');

  fanoutBusCases('a Redis Cluster', (count) => redisBuses(url(), count));

  it('spreads channels over the shards and publishes each value once', async () => {
    const [a, b] = await redisBuses(url(), 2);
    const seen = new Recorder<string>();
    const topics = Array.from({ length: 30 }, (_v, i) => `spread:${i}`);
    await Promise.all(topics.map((t) => b!.subscribe<string>(t, (v) => seen.push(v))));
    for (const t of topics) a!.publish(t, t);
    await seen.until((all) => all.length === topics.length);
    expect(new Set(seen.entries).size).toBe(topics.length);
    expect(links(b!)).toBe(3);
  });
});

describe('a Redis outage', () => {
  it('resyncs every node once Redis is back, and delivers again', async () => {
    await using redis = await startTestRedis();
    const prefix = testPrefix();
    const links = await Promise.all(
      [0, 1].map(() => RedisLink.connect({ url: redis.url, log: testLog, maxRetryDelayMs: 50 })),
    );
    try {
      const [a, b] = await Promise.all(
        links.map((link, i) => RedisFanoutBus.create({ link, nodeId: `n${i}`, log: testLog, prefix })),
      );
      const resyncs = new Recorder<string>();
      a!.onResync(() => resyncs.push('a'));
      b!.onResync(() => resyncs.push('b'));
      const seen = new Recorder<string>();
      await b!.subscribe<string>('room:1', (v) => seen.push(v));
      a!.publish('room:1', 'before');
      await seen.until((all) => all.includes('before'));

      await redis.stop();
      await Promise.all(links.map((l) => l.untilHealthy(false)));
      // The publishing node still hears itself while Redis is gone.
      const local = new Recorder<string>();
      await a!.subscribe<string>('room:2', (v) => local.push(v));
      a!.publish('room:2', 'during');
      expect(local.entries).toEqual(['during']);

      await redis.restart();
      await resyncs.until((all) => all.includes('a') && all.includes('b'));
      await Promise.all(links.map((l) => l.untilHealthy()));
      a!.publish('room:1', 'after');
      await seen.until((all) => all.includes('after'));
      expect(seen.entries).toEqual(['before', 'after']);
      await Promise.all([a!.close(), b!.close()]);
    } finally {
      await Promise.all(links.map((l) => l.close()));
    }
  });
});
