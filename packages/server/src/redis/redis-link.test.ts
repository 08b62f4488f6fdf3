import { describe, expect, it } from 'vitest';
import { privateRedis, testRedisLink } from '../testing/redis-nodes.js';

describe('RedisLink', () => {
  const url = privateRedis();

  it('times every command it sends, failures under outcome="error", for /metrics', async () => {
    const link = await testRedisLink(url());
    const count = async (outcome: string) => {
      const text = await link.latency.registry.metrics();
      const line = new RegExp(`^streampod_redis_command_duration_seconds_count\\{outcome="${outcome}"\\} (\\d+)$`, 'm');
      return Number(line.exec(text)?.[1] ?? 0);
    };
    const [ok, failed] = [await count('ok'), await count('error')];
    await link.commands.ping();
    await link.commands.get('latency');
    await expect(link.commands.call('NO.SUCH.COMMAND')).rejects.toThrow(/unknown command/i);
    expect(await count('ok')).toBe(ok + 2);
    expect(await count('error')).toBe(failed + 1);
  });
});
