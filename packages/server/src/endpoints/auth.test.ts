import { failureOf, stockHttpClient, stockWsClient } from '@streampod/framework/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startChatTestServer, type ChatTestServer } from '../testing/test-server.js';

interface AuthResult {
  token: string;
  user: { id: number; username: string; displayName: string };
}

const failure = failureOf;

let server: ChatTestServer;
beforeAll(async () => {
  server = await startChatTestServer();
});
afterAll(() => server.close());

describe('auth over HTTP with the stock tRPC client', () => {
  it('registers, then reads the user back with the bearer token', async () => {
    const anon = stockHttpClient(server.url);
    const result = (await anon.mutation('auth.register', {
      username: 'Alice',
      password: 'correct horse',
      displayName: 'Alice A.',
    })) as AuthResult;
    expect(result.user).toEqual({ id: expect.any(Number), username: 'Alice', displayName: 'Alice A.' });
    expect(result.token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const me = await stockHttpClient(server.url, result.token).query('users.me');
    expect(me).toEqual(result.user);
  });

  it('logs in case-insensitively and refuses a wrong password or an unknown user alike', async () => {
    const anon = stockHttpClient(server.url);
    await anon.mutation('auth.register', { username: 'bob', password: 'bob-password' });
    const ok = (await anon.mutation('auth.login', { username: 'BOB', password: 'bob-password' })) as AuthResult;
    expect(ok.user.username).toBe('bob');
    expect(await failure(anon.mutation('auth.login', { username: 'bob', password: 'wrong-password' }))).toEqual({
      code: 'UNAUTHORIZED',
      message: 'wrong username or password',
    });
    expect(await failure(anon.mutation('auth.login', { username: 'nobody', password: 'whatever1' }))).toEqual({
      code: 'UNAUTHORIZED',
      message: 'wrong username or password',
    });
  });

  it('refuses a duplicate username whatever its case', async () => {
    const anon = stockHttpClient(server.url);
    await anon.mutation('auth.register', { username: 'carol', password: 'carol-password' });
    expect(await failure(anon.mutation('auth.register', { username: 'CAROL', password: 'another-one' }))).toEqual({
      code: 'CONFLICT',
      message: 'username: this username is taken',
    });
  });

  it('answers UNAUTHORIZED without a token, with a garbage token and with an expired one', async () => {
    expect(await failure(stockHttpClient(server.url).query('users.me'))).toEqual({
      code: 'UNAUTHORIZED',
      message: 'a valid token is required',
    });
    expect(await failure(stockHttpClient(server.url, 'garbage').query('users.me'))).toMatchObject({
      code: 'UNAUTHORIZED',
    });
    const expired = await server.tokens.issue({ id: 1, username: 'Alice' }, -60);
    expect(await failure(stockHttpClient(server.url, expired).query('users.me'))).toMatchObject({
      code: 'UNAUTHORIZED',
    });
  });

  it('names the bad field of a bad input', async () => {
    const anon = stockHttpClient(server.url);
    expect(await failure(anon.mutation('auth.register', { username: 'x', password: 'long enough' }))).toEqual({
      code: 'BAD_REQUEST',
      message: 'username: Too small: expected string to have >=3 characters',
    });
  });
});

describe('auth over WebSocket with the stock tRPC client', () => {
  it('authenticates the connection from connectionParams.token', async () => {
    const anon = stockHttpClient(server.url);
    const { token, user } = (await anon.mutation('auth.register', {
      username: 'dave',
      password: 'dave-password',
    })) as AuthResult;
    await using ws = stockWsClient(server.wsUrl, token);
    expect(await ws.query('users.me')).toEqual(user);
  });

  it('keeps an anonymous or garbage-token connection usable for auth.* only', async () => {
    await using anon = stockWsClient(server.wsUrl);
    expect(await failure(anon.query('users.me'))).toEqual({
      code: 'UNAUTHORIZED',
      message: 'a valid token is required',
    });
    const result = (await anon.mutation('auth.register', {
      username: 'erin',
      password: 'erin-password',
    })) as AuthResult;
    expect(result.user.username).toBe('erin');

    await using garbage = stockWsClient(server.wsUrl, 'not-a-token');
    expect(await failure(garbage.query('users.me'))).toMatchObject({ code: 'UNAUTHORIZED' });
    const login = (await garbage.mutation('auth.login', { username: 'erin', password: 'erin-password' })) as AuthResult;
    expect(login.user.id).toBe(result.user.id);
  });

  it('stops authorizing calls once the token expires, on a connection that is still open', async () => {
    // A server of its own, started with intervals faked: its sweep that closes expired sockets
    // (every 250 ms) would otherwise race the call below and sometimes close the socket first.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      await using own = await startChatTestServer();
      const anon = stockHttpClient(own.url);
      const { user } = (await anon.mutation('auth.register', {
        username: 'frank',
        password: 'frank-password',
      })) as AuthResult;
      const token = await own.tokens.issue(user, 60);
      await using ws = stockWsClient(own.wsUrl, token);
      expect(await ws.query('users.me')).toEqual(user);
      vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval'] });
      vi.setSystemTime(Date.now() + 61_000);
      expect(await failure(ws.query('users.me'))).toEqual({ code: 'UNAUTHORIZED', message: 'the token has expired' });
    } finally {
      vi.useRealTimers();
    }
  });
});
