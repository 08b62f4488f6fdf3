import { once } from 'node:events';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStreampodClient, type ChatUser } from '@streampod/client';
import { createTestPostgres } from '@streampod/server/testing';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { WebSocket } from 'ws';
import { ChatServerProcess } from './chat-server-process.js';

const dataDir = () => mkdtemp(join(tmpdir(), 'streampod-e2e-'));

function client(url: string, token?: string, calls: 'ws' | 'http' = 'ws') {
  return createStreampodClient({
    url,
    WebSocket,
    calls,
    reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
    ...(token === undefined ? {} : { token }),
  });
}

describe('apps/chat-server with the generated client', () => {
  it('registers, signs in and reads the user over WebSocket and HTTP, fully typed', async () => {
    await using server = await ChatServerProcess.start({ DATA_DIR: await dataDir() });
    const anon = client(server.url);
    const registered = await anon.auth.register({ username: 'ada', password: 'analytical', displayName: 'Ada' });
    expectTypeOf(registered.user).toEqualTypeOf<ChatUser>();
    expect(registered.user).toEqual({ id: 1, username: 'ada', displayName: 'Ada' });

    const ws = client(server.url, registered.token);
    const me = await ws.users.me();
    expectTypeOf(ws.users.me).returns.resolves.toEqualTypeOf<ChatUser>();
    expect(me).toEqual(registered.user);

    const http = client(server.url, registered.token, 'http');
    expect(await http.users.me()).toEqual(registered.user);
    const login = await http.auth.login({ username: 'ADA', password: 'analytical' });
    expect(login.user.id).toBe(1);
    await Promise.all([anon.close(), ws.close(), http.close()]);
  });

  it('stops on SIGTERM with exit code 0, keeps its data and tokens, and the client reconnects by itself', async () => {
    const dir = await dataDir();
    const first = await ChatServerProcess.start({ DATA_DIR: dir });
    const anon = client(first.url);
    const { token, user } = await anon.auth.register({ username: 'grace', password: 'cobol-1959' });
    const signedIn = client(first.url, token);
    const connections: boolean[] = [];
    signedIn.onConnectionChange((up) => connections.push(up));
    expect(await signedIn.users.me()).toEqual(user);

    expect(await first.stop('SIGTERM')).toBe(0);
    expect(first.logs.map((l) => l['msg'])).toContain('server stopped');

    await using second = await ChatServerProcess.start({ DATA_DIR: dir, PORT: String(first.port) });
    // The same client object, without any help: it reconnects and the old token still works;
    // the stop took the user offline and saved when they were last seen.
    expect(await signedIn.users.me()).toEqual({ ...user, lastSeenAt: expect.any(Date) as Date });
    expect(connections).toContain(false);
    expect(second.logs.filter((l) => l['msg'] === 'migration applied')).toHaveLength(0);
    await Promise.all([anon.close(), signedIn.close()]);
  });

  it('runs on PostgreSQL when DATABASE_URL is set', async () => {
    await using pg = await createTestPostgres();
    const dir = await dataDir();
    const first = await ChatServerProcess.start({ DATA_DIR: dir, DATABASE_URL: pg.url });
    expect(first.logs.find((l) => String(l['msg']).startsWith('chat server listening'))).toMatchObject({
      database: 'postgres',
    });
    const anon = client(first.url);
    const { user } = await anon.auth.register({ username: 'linus', password: 'penguins!' });
    await anon.close();
    expect(await first.stop()).toBe(0);

    await using second = await ChatServerProcess.start({ DATA_DIR: dir, DATABASE_URL: pg.url });
    const again = client(second.url);
    expect((await again.auth.login({ username: 'linus', password: 'penguins!' })).user).toEqual(user);
    await again.close();
  });

  it('lists a room above ROOM_PRESENCE_LIST_LIMIT by its counts only', async () => {
    await using server = await ChatServerProcess.start({ DATA_DIR: await dataDir(), ROOM_PRESENCE_LIST_LIMIT: '1' });
    const anon = client(server.url);
    const ada = await anon.auth.register({ username: 'ada', password: 'engines!!' });
    const bob = await anon.auth.register({ username: 'bob', password: 'engines!!' });
    await anon.close();
    const signedIn = client(server.url, ada.token);
    const room = await signedIn.chat.createRoom({ name: 'two', memberIds: [bob.user.id] });
    expect(await signedIn.presence.getRoomPresence({ roomId: room.id })).toEqual({
      roomId: room.id,
      memberCount: 2,
      onlineCount: 1,
      listed: false,
      members: [],
    });
    await signedIn.close();
  });

  it('caps WebSockets per address, lets browsers in (WebSocket and CORS) from allowed origins only, and closes idle anonymous sockets, as configured', async () => {
    await using server = await ChatServerProcess.start({
      DATA_DIR: await dataDir(),
      MAX_CONNECTIONS_PER_IP: '2',
      ALLOWED_ORIGINS: 'https://chat.example',
      // Long enough for the checks below, which hold two anonymous sockets that ask for nothing.
      ANONYMOUS_IDLE_MS: '4000',
    });
    const open = (origin?: string) =>
      new Promise<WebSocket>((resolve, reject) => {
        const ws = new WebSocket(server.wsUrl, origin === undefined ? {} : { origin });
        ws.once('open', () => resolve(ws));
        ws.once('error', reject);
      });
    const app = await open();
    await expect(open('https://evil.example')).rejects.toThrow(/403/);
    const browser = await open('https://chat.example');
    await expect(open()).rejects.toThrow(/503/);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    // The same list answers CORS for HTTP calls.
    const login = `${server.url}/trpc/auth.login`;
    const preflight = (origin: string) =>
      fetch(login, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
    expect((await preflight('https://chat.example')).headers.get('access-control-allow-origin')).toBe(
      'https://chat.example',
    );
    expect((await preflight('https://evil.example')).status).toBe(403);
    const [code, reason] = (await once(app, 'close')) as [number, Buffer];
    expect([code, reason.toString()]).toEqual([1008, 'idle without signing in']);
    browser.close();
  });

  it('refuses a bad configuration, naming the variable', async () => {
    const { code, stderr } = await ChatServerProcess.failing({
      DATA_DIR: await dataDir(),
      HEARTBEAT_INTERVAL_MS: 'soon',
      ROOM_PRESENCE_LIST_LIMIT: 'many',
      RATE_LIMIT_MESSAGES: 'lots',
    });
    expect(code).toBe(1);
    expect(stderr).toContain('HEARTBEAT_INTERVAL_MS');
    expect(stderr).toContain('ROOM_PRESENCE_LIST_LIMIT');
    expect(stderr).toContain('RATE_LIMIT_MESSAGES: must be like 30/10s');
  });
});
