import type { AuthResult } from '@streampod/protocol';
import { itWithDatabase as it, startChatTestServer } from '@streampod/server/testing';
import { describe, expect } from 'vitest';
import { WebSocket } from 'ws';
import { createStreampodClient } from '../client.js';
import { RefreshingToken } from './refreshing-token.js';

let seq = 0;

describe('RefreshingToken', () => {
  it('refreshes before each expiry over the open WebSocket, which stays open past the first token', async ({
    database,
  }) => {
    await using server = await startChatTestServer({ database, accessTtlSeconds: 3 });
    const anonymous = createStreampodClient({ url: server.url, WebSocket });
    const username = `fresh${++seq}`;
    await anonymous.auth.register({ username, password: 'a long password' });
    const signedIn = await anonymous.auth.login({ username, password: 'a long password', refresh: true });
    await anonymous.close();

    const changes: AuthResult[] = [];
    let changed: (() => void) | undefined;
    const session = new RefreshingToken(signedIn, {
      onChange: (result) => {
        changes.push(result);
        changed?.();
      },
    });
    const client = session.attach(createStreampodClient({ url: server.url, WebSocket, token: session.token }));
    const drops: boolean[] = [];
    client.onConnectionChange((connected) => drops.push(connected));
    expect((await client.users.me()).username).toBe(username);
    // Three refreshes, 1.5 s apart: the last comes after the first token has expired.
    await new Promise<void>((resolve) => (changed = () => changes.length >= 3 && resolve()));
    expect(Date.now()).toBeGreaterThan(signedIn.expiresAt!.getTime());
    expect((await client.users.me()).username).toBe(username);
    expect(drops).toEqual([true]);
    expect(new Set(changes.map((c) => c.refreshToken)).size).toBe(3);
    expect(session.token()).toBe(changes[2]!.token);
    session.stop();
    await client.close();
  });

  it('says when the sign-in has ended, and stops', async ({ database }) => {
    await using server = await startChatTestServer({ database });
    const anonymous = createStreampodClient({ url: server.url, WebSocket });
    const username = `ended${++seq}`;
    await anonymous.auth.register({ username, password: 'a long password' });
    const signedIn = await anonymous.auth.login({ username, password: 'a long password', refresh: true });
    const ended: unknown[] = [];
    const session = new RefreshingToken(signedIn, { onEnded: (error) => ended.push(error) });
    const client = session.attach(createStreampodClient({ url: server.url, WebSocket, token: session.token }));
    expect((await client.users.me()).username).toBe(username);
    const dropped = new Promise<void>((resolve) => client.onConnectionChange((up) => !up && resolve()));
    await client.auth.logout();
    await dropped; // the signed-out token's socket closes (4001)
    await expect(session.refresh()).rejects.toMatchObject({ data: { code: 'UNAUTHORIZED' } });
    expect(ended).toHaveLength(1);
    await Promise.all([client.close(), anonymous.close()]);
  });
});
