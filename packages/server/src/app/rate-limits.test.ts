import { failureOf, stockHttpClient } from '@streampod/framework/testing';
import { describe, expect, it } from 'vitest';
import { createRoom, send } from '../testing/chat-helpers.js';
import { connectDevice, registerUser } from '../testing/presence-helpers.js';
import { startChatTestServer } from '../testing/test-server.js';
import { parseRateLimit, RateLimiter } from './rate-limits.js';

describe('rate limits', () => {
  it('let a burst through, refuse the flood with TOO_MANY_REQUESTS, and keep what was accepted', async () => {
    await using server = await startChatTestServer({
      rateLimits: { messages: { burst: 3, perMs: 60_000 }, presence: { burst: 2, perMs: 60_000 } },
    });
    const alice = await registerUser(server, 'alice');
    const bob = await registerUser(server, 'bob');
    await using a = await connectDevice(server, alice.token);
    await using b = await connectDevice(server, bob.token);
    const room = await createRoom(a, { name: 'busy', memberIds: [bob.id] });
    const outcomes = await Promise.allSettled([1, 2, 3, 4, 5].map((n) => send(a, room.id, `m${n}`)));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(3);
    const refused = await failureOf(send(a, room.id, 'one more'));
    expect(refused).toEqual({
      code: 'TOO_MANY_REQUESTS',
      message: expect.stringMatching(/^chat\.sendMessage: too many \(3 per 1 min\); retry in \d+ s$/) as string,
    });
    // Exactly what was accepted is stored; the sender's connection and other users go on.
    const history = (await b.query('chat.history', { roomId: room.id })) as { content: string }[];
    expect(history).toHaveLength(3);
    expect(await send(b, room.id, 'from bob')).toMatchObject({ content: 'from bob' });
    expect(await a.query('users.me')).toMatchObject({ id: alice.id });

    await a.mutation('presence.setStatus', { status: 'busy' });
    await a.mutation('presence.setStatus', { status: 'away' });
    expect(await failureOf(a.mutation('presence.setStatus', { status: 'online' }))).toMatchObject({
      code: 'TOO_MANY_REQUESTS',
    });
  });

  it('slow password guessing: sign-ins by address, a password change by user too', async () => {
    await using server = await startChatTestServer({ rateLimits: { signIn: { burst: 3, perMs: 60_000 } } });
    const http = stockHttpClient(server.url);
    const guess = () => http.mutation('auth.login', { username: 'nobody_here', password: 'guess guess' });
    for (let i = 0; i < 3; i++) expect(await failureOf(guess())).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(await failureOf(guess())).toMatchObject({
      code: 'TOO_MANY_REQUESTS',
      message: expect.stringMatching(/^auth\.login: too many \(3 per 1 min\)/) as string,
    });
  });

  it('refill at the configured rate', () => {
    const limiter = new RateLimiter();
    const limit = { burst: 2, perMs: 1_000 };
    expect([limiter.take('k', limit, 0), limiter.take('k', limit, 0)]).toEqual([0, 0]);
    expect(limiter.take('k', limit, 0)).toBe(500);
    expect(limiter.take('k', limit, 499)).toBeGreaterThan(0);
    expect(limiter.take('k', limit, 1_000)).toBe(0);
    limiter.close();
  });

  it('read from the environment as count/period', () => {
    expect(parseRateLimit('30/10s')).toEqual({ burst: 30, perMs: 10_000 });
    expect(parseRateLimit('10/1m')).toEqual({ burst: 10, perMs: 60_000 });
    expect(parseRateLimit('5/250ms')).toEqual({ burst: 5, perMs: 250 });
    for (const bad of ['30', '30/10', '0/1s', 'x/1s', '30/10h']) expect(parseRateLimit(bad)).toBeUndefined();
  });
});
