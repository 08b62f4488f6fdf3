import { failureOf, RawWsClient, stockHttpClient, stockWsClient } from '@streampod/framework/testing';
import type { AuthResult } from '@streampod/protocol';
import type { TRPCClientError } from '@trpc/client';
import type { AnyTRPCRouter } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appEndpoints } from '../app/endpoints.js';
import { TokenService } from '../auth/tokens.js';
import { openDatabase, type Database } from '../db/index.js';
import { startChatTestServer, type ChatTestServer } from '../testing/test-server.js';
import { sp } from './streampod.js';
import { busOutage, startTwoNodes } from '../testing/two-nodes.js';

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

  it('answers logout and changePassword sent over the WebSocket about to close, the new token included', async () => {
    const { username, first, second } = await twoTokens();
    const ws = stockWsClient(server.wsUrl, first);
    const changed = (await ws.mutation('auth.changePassword', {
      currentPassword: password,
      newPassword: 'another long one',
    })) as AuthResult;
    expect(await me(server, changed.token)).toMatchObject({ username });
    await ws.close();
    expect(await failureOf(me(server, second))).toMatchObject({ code: 'UNAUTHORIZED' });
    const signedIn = stockWsClient(server.wsUrl, changed.token);
    await expect(signedIn.mutation('auth.logout')).resolves.toBeUndefined();
    await signedIn.close();
    expect(await failureOf(me(server, changed.token))).toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('closes a socket whose token was revoked after its sign-in check but before it registered', async () => {
    const { userId, username, first } = await twoTokens();
    // A revocation the bus carried while this socket's check read the database from before it.
    server.services.auth.announce({ userId, epoch: 1 });
    const older = { user: { id: userId, username, epoch: 0 }, expiresAt: Date.now() + 60_000, tokenId: 'any' };
    await expect.poll(() => server.services.auth.revokedRecently(older)).toBe(true);
    const raw = await RawWsClient.connect(server.wsUrl, first);
    expect(await raw.closed).toEqual({ code: 4001, reason: 'signed out' });
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

  it('after a bus outage, closes the sockets of tokens signed out meanwhile on another node', async () => {
    const db = await openDatabase({ dataDir: 'memory' });
    const outage = busOutage();
    try {
      await using nodes = await startTwoNodes({
        database: db,
        wrapBus: (bus, node) => (node === 'b' ? outage.wrap(bus) : bus),
      });
      const { first, second } = await twoTokens(nodes.a);
      const onB = await openSocket(nodes.b, first);
      await using other = await openSocket(nodes.b, second);
      outage.down = true;
      await stockHttpClient(nodes.a.url, first).mutation('auth.logout');
      outage.resync();
      expect(await onB.closed).toEqual({ code: 4001, reason: 'signed out' });
      other.send({ id: 2, method: 'query', params: { path: 'users.me' } });
      expect(await other.frame(2)).toMatchObject({ id: 2, result: { type: 'data' } });
    } finally {
      await db.close();
    }
  });
});

describe('short-lived access tokens with refresh', () => {
  let short: ChatTestServer;
  beforeAll(async () => {
    short = await startChatTestServer({ accessTtlSeconds: 3, refreshRetryGraceMs: 0 });
  });
  afterAll(() => short.close());

  const signIn = async (refresh?: boolean) => {
    const http = stockHttpClient(short.url);
    const username = `ref${++seq}_${process.pid}`;
    await http.mutation('auth.register', { username, password });
    return (await http.mutation('auth.login', {
      username,
      password,
      ...(refresh === undefined ? {} : { refresh }),
    })) as AuthResult;
  };
  const refresh = (refreshToken: string) =>
    stockHttpClient(short.url).mutation('auth.refresh', { refreshToken }) as Promise<AuthResult>;

  it('gives a client that asks none a long-lived token, as before', async () => {
    const plain = await signIn();
    expect(plain.refreshToken).toBeUndefined();
    expect(plain.expiresAt!.getTime() - Date.now()).toBeGreaterThan(6 * 24 * 3600_000);
  });

  it('keeps a WebSocket that refreshes on it open past the first token, and closes one that does not', async () => {
    const kept = await signIn(true);
    expect(kept.expiresAt!.getTime() - Date.now()).toBeLessThanOrEqual(3_000);
    await using keptSocket = await openSocket(short, kept.token);
    const lapsed = await signIn(true);
    const lapsedSocket = await openSocket(short, lapsed.token);
    // Tokens count whole seconds: the refresh must come a second after the lapsed sign-in to outlive it.
    await new Promise((resolve) => setTimeout(resolve, 1_000 - (Date.now() % 1_000) + 10));
    keptSocket.send({
      id: 2,
      method: 'mutation',
      params: { path: 'auth.refresh', input: { json: { refreshToken: kept.refreshToken } } },
    });
    const renewed = (await keptSocket.frame(2)) as {
      result: { data: { json: { token: string; refreshToken: string } } };
    };
    expect(renewed.result.data.json.refreshToken).not.toBe(kept.refreshToken);
    // Once the lapsed one closes, the kept socket's first token (issued before) has expired too.
    expect(await lapsedSocket.closed).toEqual({ code: 4001, reason: 'token expired' });
    keptSocket.send({ id: 3, method: 'query', params: { path: 'users.me' } });
    expect(await keptSocket.frame(3)).toMatchObject({ id: 3, result: { data: { json: { id: kept.user.id } } } });
    expect(await me(short, renewed.result.data.json.token)).toMatchObject({ id: kept.user.id });
  });

  it('takes each refresh token once; a used one coming back ends its whole sign-in', async () => {
    const first = await signIn(true);
    const second = await refresh(first.refreshToken!);
    expect(second.user.id).toBe(first.user.id);
    expect(await failureOf(refresh(first.refreshToken!))).toMatchObject({
      code: 'UNAUTHORIZED',
      message: expect.stringMatching(/^refreshToken: /),
    });
    // The thief or the owner: either way the chain it belongs to is over.
    expect(await failureOf(refresh(second.refreshToken!))).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(await failureOf(refresh('not-a-token'))).toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('ends every token of a sign-in with auth.logout of any of them, the ones refreshed before included', async () => {
    const http = stockHttpClient(server.url);
    const username = `family${++seq}_${process.pid}`;
    await http.mutation('auth.register', { username, password });
    const first = (await http.mutation('auth.login', { username, password, refresh: true })) as AuthResult;
    const firstSocket = await openSocket(server, first.token);
    const second = (await http.mutation('auth.refresh', { refreshToken: first.refreshToken })) as AuthResult;
    await stockHttpClient(server.url, second.token).mutation('auth.logout');
    expect(await firstSocket.closed).toEqual({ code: 4001, reason: 'signed out' });
    expect(await failureOf(me(server, first.token))).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(await failureOf(me(server, second.token))).toMatchObject({ code: 'UNAUTHORIZED' });
    expect(await failureOf(http.mutation('auth.refresh', { refreshToken: second.refreshToken }))).toMatchObject({
      code: 'UNAUTHORIZED',
    });
  });

  it('takes a used refresh token back within the retry grace as its client retrying, with new tokens', async () => {
    const http = stockHttpClient(server.url);
    const username = `retry${++seq}_${process.pid}`;
    await http.mutation('auth.register', { username, password });
    const first = (await http.mutation('auth.login', { username, password, refresh: true })) as AuthResult;
    const lost = (await http.mutation('auth.refresh', { refreshToken: first.refreshToken })) as AuthResult;
    // The answer was lost: the client tries again with the same token (default grace 30 s).
    const again = (await http.mutation('auth.refresh', { refreshToken: first.refreshToken })) as AuthResult;
    expect(again.refreshToken).not.toBe(lost.refreshToken);
    expect(await me(server, again.token)).toMatchObject({ id: first.user.id });
  });

  it('ends the refresh token with auth.logout of its sign-in, and with auth.logoutEverywhere', async () => {
    const one = await signIn(true);
    await stockHttpClient(short.url, one.token).mutation('auth.logout');
    expect(await failureOf(refresh(one.refreshToken!))).toMatchObject({ code: 'UNAUTHORIZED' });

    const two = await signIn(true);
    const renewed = await refresh(two.refreshToken!);
    await stockHttpClient(short.url, renewed.token).mutation('auth.logoutEverywhere');
    expect(await failureOf(refresh(renewed.refreshToken!))).toMatchObject({ code: 'UNAUTHORIZED' });
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

describe('every procedure that needs a token, against every token that does not stand', () => {
  it('answers UNAUTHORIZED over HTTP and WebSocket, and a subscription gets no event', async () => {
    const { userId, username, first: revoked } = await twoTokens();
    await stockHttpClient(server.url, revoked).mutation('auth.logout');
    const other = await twoTokens();
    // Deleting a user voids every token of theirs still around.
    const gone = await twoTokens();
    await database.db.deleteFrom('users').where('id', '=', gone.userId).execute();
    const tokens: Record<string, string | undefined> = {
      none: undefined,
      forged: `${other.first.slice(0, -4)}AAAA`,
      expired: await server.tokens.issue({ id: userId, username }, -60),
      'another installation': await new TokenService({
        secret: new TextEncoder().encode('test-secret-test-secret-test-secret!'),
        installation: 'elsewhere',
      }).issue({ id: userId, username }),
      revoked,
      'deleted user': gone.first,
    };

    const procedures = sp.describe(appEndpoints).filter((p) => !p.public);
    expect(procedures.length).toBeGreaterThan(20);
    for (const [kind, token] of Object.entries(tokens)) {
      const ws = stockWsClient(server.wsUrl, token);
      const http = stockHttpClient(server.url, token);
      for (const procedure of procedures) {
        const where = `${procedure.path} with ${kind} token`;
        if (procedure.kind === 'subscription') {
          const events: unknown[] = [];
          const failed = new Promise<string | undefined>((resolve) =>
            ws.subscription(procedure.path, undefined, {
              onData: (data) => events.push(data),
              onError: (error: TRPCClientError<AnyTRPCRouter>) =>
                resolve((error.data as { code?: string } | undefined)?.code),
            }),
          );
          expect(await failed, where).toBe('UNAUTHORIZED');
          expect(events, where).toEqual([]);
          continue;
        }
        for (const client of [ws, http]) {
          const call = procedure.kind === 'query' ? client.query(procedure.path) : client.mutation(procedure.path);
          expect((await failureOf(call)).code, where).toBe('UNAUTHORIZED');
        }
      }
      await ws[Symbol.asyncDispose]();
    }
  });
});
