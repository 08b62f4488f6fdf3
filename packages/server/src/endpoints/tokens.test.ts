import { failureOf, RawWsClient, stockHttpClient, stockWsClient } from '@streampod/framework/testing';
import type { AuthResult } from '@streampod/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenService } from '../auth/tokens.js';
import { openDatabase, type Database } from '../db/index.js';
import { startChatTestServer, type ChatTestServer } from '../testing/test-server.js';
import { startTwoNodes } from '../testing/two-nodes.js';

let database: Database;
let server: ChatTestServer;
beforeAll(async () => {
  database = await openDatabase({ dataDir: 'memory' });
  server = await startChatTestServer({ database });
});
afterAll(async () => {
  await server.close();
  await database.close();
});

const password = 'a long password';
let seq = 0;

/** A new account, signed in twice (two devices, two tokens). */
async function twoTokens(on: ChatTestServer = server) {
  const http = stockHttpClient(on.url);
  const username = `tok${++seq}_${process.pid}`;
  const first = (await http.mutation('auth.register', { username, password })) as AuthResult;
  const second = (await http.mutation('auth.login', { username, password })) as AuthResult;
  return { username, userId: first.user.id, first: first.token, second: second.token };
}

/** A signed-in WebSocket that has made a call, so the server knows whose it is. */
async function openSocket(on: ChatTestServer, token: string): Promise<RawWsClient> {
  const raw = await RawWsClient.connect(on.wsUrl, token);
  raw.send({ id: 1, method: 'query', params: { path: 'users.me' } });
  await raw.frame(1);
  return raw;
}

const me = (on: ChatTestServer, token: string) => stockHttpClient(on.url, token).query('users.me');

describe('signing out', () => {
  it('auth.logout ends this token only: its socket closes with 4001, the other device goes on', async () => {
    const { first, second } = await twoTokens();
    const firstSocket = await openSocket(server, first);
    await using secondSocket = await openSocket(server, second);
    await stockHttpClient(server.url, first).mutation('auth.logout');
    expect(await firstSocket.closed).toEqual({ code: 4001, reason: 'signed out' });
    expect(await failureOf(me(server, first))).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(await failureOf(stockWsClient(server.wsUrl, first).query('users.me'))).toMatchObject({
      code: 'UNAUTHORIZED',
    });
    expect(await me(server, second)).toMatchObject({ username: expect.any(String) });
    secondSocket.send({ id: 2, method: 'query', params: { path: 'users.me' } });
    expect(await secondSocket.frame(2)).toMatchObject({ id: 2, result: { type: 'data' } });
    // Without a token there is nothing to sign out.
    expect(await failureOf(stockHttpClient(server.url).mutation('auth.logout'))).toMatchObject({
      code: 'UNAUTHORIZED',
    });
  });

  it('auth.logoutEverywhere ends every token of the user, this one too; signing in again works', async () => {
    const { username, first, second } = await twoTokens();
    const sockets = await Promise.all([openSocket(server, first), openSocket(server, second)]);
    await stockHttpClient(server.url, second).mutation('auth.logoutEverywhere');
    for (const socket of sockets) expect(await socket.closed).toEqual({ code: 4001, reason: 'signed out' });
    for (const token of [first, second])
      expect(await failureOf(me(server, token))).toMatchObject({ code: 'UNAUTHORIZED' });
    const again = (await stockHttpClient(server.url).mutation('auth.login', { username, password })) as AuthResult;
    expect(await me(server, again.token)).toMatchObject({ username });
  });

  it('auth.changePassword checks the current one, ends every other token, and gives this client a new one', async () => {
    const { username, first, second } = await twoTokens();
    const other = await openSocket(server, second);
    const http = stockHttpClient(server.url, first);
    expect(
      await failureOf(
        http.mutation('auth.changePassword', { currentPassword: 'not it', newPassword: 'a new password' }),
      ),
    ).toEqual({ code: 'FORBIDDEN', message: 'currentPassword: wrong password' });
    const changed = (await http.mutation('auth.changePassword', {
      currentPassword: password,
      newPassword: 'a new password',
    })) as AuthResult;
    expect(await other.closed).toEqual({ code: 4001, reason: 'signed out' });
    expect(await me(server, changed.token)).toMatchObject({ username });
    for (const token of [first, second])
      expect(await failureOf(me(server, token))).toMatchObject({ code: 'UNAUTHORIZED' });
    const anonymous = stockHttpClient(server.url);
    expect(await failureOf(anonymous.mutation('auth.login', { username, password }))).toMatchObject({
      code: 'UNAUTHORIZED',
    });
    expect(await anonymous.mutation('auth.login', { username, password: 'a new password' })).toMatchObject({
      user: { username },
    });
  });

  it('reaches the other nodes: a token signed out on one closes its socket on another', async () => {
    const db = await openDatabase({ dataDir: 'memory' });
    try {
      await using nodes = await startTwoNodes({ database: db });
      const { first } = await twoTokens(nodes.a);
      const onB = await openSocket(nodes.b, first);
      await stockHttpClient(nodes.a.url, first).mutation('auth.logout');
      expect(await onB.closed).toEqual({ code: 4001, reason: 'signed out' });
    } finally {
      await db.close();
    }
  });
});

describe('tokens that do not stand', () => {
  it('refuses a token whose user no longer exists, and one of another installation with the same secret', async () => {
    const { userId, username, first } = await twoTokens();
    const foreign = new TokenService({
      secret: new TextEncoder().encode('test-secret-test-secret-test-secret!'),
      installation: 'another-installation',
    });
    const theirs = await foreign.issue({ id: userId, username });
    expect(await failureOf(me(server, theirs))).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(await me(server, first)).toMatchObject({ id: userId });

    await database.db.deleteFrom('users').where('id', '=', userId).execute();
    expect(await failureOf(me(server, first))).toMatchObject({ code: 'UNAUTHORIZED' });
    const socket = await RawWsClient.connect(server.wsUrl, first);
    socket.send({ id: 1, method: 'query', params: { path: 'users.me' } });
    expect(await socket.frame(1)).toMatchObject({ id: 1, error: { json: { data: { code: 'UNAUTHORIZED' } } } });
    await socket[Symbol.asyncDispose]();
  });
});
