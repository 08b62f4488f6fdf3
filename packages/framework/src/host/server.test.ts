import { once } from 'node:events';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { fail, rpcError } from '../core/errors.js';
import { allowOrigins } from './origins.js';
import { failureOf } from '../testing/failure.js';
import { authenticateProbe, CounterEndpoint, sp, startProbeServer } from '../testing/probe-app.js';
import { RawWsClient } from '../testing/raw-ws.js';
import { Recorder } from '../testing/recorder.js';
import { stockHttpClient, stockWsClient } from '../testing/trpc-clients.js';

describe('who may call', () => {
  it('serves public methods to anyone and the rest to signed-in users, over WebSocket and HTTP', async () => {
    await using test = await startProbeServer({ endpoints: { counter: new CounterEndpoint() } });
    await using anonymous = stockWsClient(test.wsUrl);
    expect(await anonymous.query('counter.add', { a: 1, b: 2 })).toBe(3);
    expect(await failureOf(anonymous.query('counter.whoami'))).toEqual({
      code: 'UNAUTHORIZED',
      message: 'a valid token is required',
    });

    await using alice = stockWsClient(test.wsUrl, 'token:alice');
    expect(await alice.query('counter.whoami')).toBe('hello, user alice');
    expect(await stockHttpClient(test.url, 'token:bob').query('counter.whoami')).toBe('hello, user bob');
    expect((await failureOf(stockHttpClient(test.url, 'nonsense').query('counter.whoami'))).code).toBe('UNAUTHORIZED');
  });
});

describe('beforeCall', () => {
  it('sees every call with its path, type and raw input, and refuses one with any code', async () => {
    const seen = new Recorder<string>();
    await using test = await startProbeServer({
      endpoints: { counter: new CounterEndpoint() },
      beforeCall: [
        async (call) => {
          const input = (await call.rawInput()) as { a?: number } | undefined;
          seen.push(`${call.type} ${call.path} public=${call.public} user=${call.connection.user?.id ?? '-'}`);
          if (input?.a === 13) fail('TOO_MANY_REQUESTS', 'unlucky: slow down');
        },
      ],
    });
    await using client = stockWsClient(test.wsUrl, 'token:carol');
    expect(await client.query('counter.add', { a: 1, b: 1 })).toBe(2);
    expect(await failureOf(client.query('counter.add', { a: 13, b: 1 }))).toEqual({
      code: 'TOO_MANY_REQUESTS',
      message: 'unlucky: slow down',
    });
    // The connection goes on.
    expect(await client.query('counter.whoami')).toBe('hello, user carol');
    const events = new Recorder<unknown>();
    client.subscription('counter.count', { to: 1 }, { onComplete: () => events.push('done') });
    await events.untilCount('done');
    expect(seen.entries).toEqual([
      'query counter.add public=true user=carol',
      'query counter.add public=true user=carol',
      'query counter.whoami public=false user=carol',
      'subscription counter.count public=true user=carol',
    ]);
  });

  it('does not run for a call refused as unauthorized', async () => {
    const seen = new Recorder<string>();
    await using test = await startProbeServer({
      endpoints: { counter: new CounterEndpoint() },
      beforeCall: [(call) => void seen.push(call.path)],
    });
    await using client = stockWsClient(test.wsUrl);
    await failureOf(client.query('counter.whoami'));
    expect(await client.query('counter.add', { a: 0, b: 0 })).toBe(0);
    expect(seen.entries).toEqual(['counter.add']);
  });
});

describe('the connection gate', () => {
  it('refuses an upgrade over HTTP with a status, or accepts then closes it with a code', async () => {
    await using test = await startProbeServer({
      endpoints: { counter: new CounterEndpoint() },
      connectionGate: (request) => {
        if (request.origin === 'https://evil.example') return { status: 403, reason: 'origin not allowed' };
        if (request.url.includes('full')) return { closeCode: 1013, reason: 'try again later' };
        return undefined;
      },
    });
    await expect(RawWsClient.connect(test.wsUrl, undefined, { origin: 'https://evil.example' })).rejects.toThrow(
      'Unexpected server response: 403',
    );
    const full = await RawWsClient.connect(`${test.wsUrl}?full`);
    expect(await full.closed).toEqual({ code: 1013, reason: 'try again later' });
    await using fine = await RawWsClient.connect(test.wsUrl, undefined, { origin: 'https://chat.example' });
    fine.send({ id: 1, method: 'query', params: { path: 'counter.add', input: { json: { a: 1, b: 1 } } } });
    expect(await fine.frame(1)).toEqual({ id: 1, result: { type: 'data', data: { json: 2 } } });
  });
});

describe('connections by user', () => {
  it('lists a user’s connections and closes them all with a code; others stay', async () => {
    await using test = await startProbeServer({ endpoints: { counter: new CounterEndpoint() } });
    const closes = new Recorder<string>();
    const aliceOne = await RawWsClient.connect(test.wsUrl, 'token:alice');
    const aliceTwo = await RawWsClient.connect(test.wsUrl, 'token:alice');
    await using bob = await RawWsClient.connect(test.wsUrl, 'token:bob');
    for (const raw of [aliceOne, aliceTwo, bob]) {
      raw.send({ id: 1, method: 'query', params: { path: 'counter.whoami' } });
      await raw.frame(1);
    }
    expect(test.server.connectionsOf('alice')).toHaveLength(2);
    expect(test.server.connectionsOf('alice').map((c) => c.user?.name)).toEqual(['user alice', 'user alice']);
    expect(test.server.connectionsOf('nobody')).toEqual([]);

    expect(test.server.disconnectUser('alice', { code: 4001, reason: 'token revoked' })).toBe(2);
    for (const raw of [aliceOne, aliceTwo])
      void raw.closed.then(({ code, reason }) => closes.push(`${code} ${reason}`));
    await closes.untilCount('4001 token revoked', 2);
    bob.send({ id: 2, method: 'query', params: { path: 'counter.whoami' } });
    expect(await bob.frame(2)).toEqual({ id: 2, result: { type: 'data', data: { json: 'hello, user bob' } } });
  });
});

describe('tokens that end', () => {
  it('closes a WebSocket within a second of its token expiring (4001), and only its own', async () => {
    const signedAt = Date.now();
    await using test = await startProbeServer({
      endpoints: { counter: new CounterEndpoint() },
      // `short:<id>` expires 300 ms after it is checked.
      authenticate: (token) =>
        token.startsWith('short:')
          ? Promise.resolve({ user: { id: token.slice(6), name: 'short' }, expiresAt: Date.now() + 300, tokenId: 't1' })
          : authenticateProbe(token),
    });
    const short = await RawWsClient.connect(test.wsUrl, 'short:erin');
    await using long = await RawWsClient.connect(test.wsUrl, 'token:frank');
    for (const raw of [short, long]) {
      raw.send({ id: 1, method: 'query', params: { path: 'counter.whoami' } });
      await raw.frame(1);
    }
    expect(await short.closed).toEqual({ code: 4001, reason: 'token expired' });
    expect(Date.now() - signedAt).toBeLessThan(300 + 1_000);
    long.send({ id: 2, method: 'query', params: { path: 'counter.whoami' } });
    expect(await long.frame(2)).toEqual({ id: 2, result: { type: 'data', data: { json: 'hello, user frank' } } });
  });

  it('disconnects the connections of one token of a user, by its id', async () => {
    let n = 0;
    await using test = await startProbeServer({
      endpoints: { counter: new CounterEndpoint() },
      authenticate: (token) =>
        Promise.resolve({ user: { id: token, name: token }, expiresAt: Date.now() + 60_000, tokenId: `t${++n}` }),
    });
    const first = await RawWsClient.connect(test.wsUrl, 'gina');
    await using second = await RawWsClient.connect(test.wsUrl, 'gina');
    for (const raw of [first, second]) {
      raw.send({ id: 1, method: 'query', params: { path: 'counter.whoami' } });
      await raw.frame(1);
    }
    expect(test.server.disconnectUser('gina', { only: (c) => c.tokenId === 't1' })).toBe(1);
    expect(await first.closed).toEqual({ code: 4001, reason: 'signed out' });
    second.send({ id: 2, method: 'query', params: { path: 'counter.whoami' } });
    expect(await second.frame(2)).toEqual({ id: 2, result: { type: 'data', data: { json: 'hello, gina' } } });
  });
});

describe('allowOrigins', () => {
  it("lets in the server's own origin, the listed ones and clients without an Origin; refuses others with 403", async () => {
    await using test = await startProbeServer({
      endpoints: { counter: new CounterEndpoint() },
      connectionGate: allowOrigins(['https://chat.example']),
    });
    const own = `http://${new URL(test.url).host}`;
    for (const origin of [own, 'https://chat.example', undefined]) {
      const raw = await RawWsClient.connect(test.wsUrl, undefined, origin === undefined ? {} : { origin });
      raw.close();
    }
    await expect(RawWsClient.connect(test.wsUrl, undefined, { origin: 'https://evil.example' })).rejects.toThrow(/403/);
  });
});

describe('translateError', () => {
  class StoreEndpoint extends sp.Endpoint {
    /** Fails as a database refusing the bytes would, or as one that is down. */
    save = this.mutation(
      { input: z.object({ down: z.boolean() }), output: z.null(), public: true },
      (_session, { down }) => {
        throw Object.assign(new Error(down ? 'connection refused' : 'invalid byte sequence'), {
          code: down ? 'ECONNREFUSED' : '22021',
        });
      },
    );
  }

  it('gives the caller the translated error, and leaves what it does not know an internal error', async () => {
    await using test = await startProbeServer({
      endpoints: { store: new StoreEndpoint() },
      translateError: (error) =>
        (error as { code?: string }).code === '22021'
          ? rpcError('BAD_REQUEST', 'bytes the database cannot store')
          : undefined,
    });
    const http = stockHttpClient(test.url);
    expect(await failureOf(http.mutation('store.save', { down: false }))).toEqual({
      code: 'BAD_REQUEST',
      message: 'bytes the database cannot store',
    });
    expect(await failureOf(http.mutation('store.save', { down: true }))).toEqual({
      code: 'INTERNAL_SERVER_ERROR',
      message: 'Internal server error',
    });
  });
});

describe('corsOrigins', () => {
  it('answers CORS for the listed origins, refuses other browser origins with 403 and leaves clients without Origin alone', async () => {
    await using test = await startProbeServer({
      endpoints: { counter: new CounterEndpoint() },
      corsOrigins: ['https://chat.example'],
    });
    const call = `${test.url}/trpc/counter.add?input=${encodeURIComponent(JSON.stringify({ json: { a: 1, b: 2 } }))}`;
    const preflight = await fetch(call, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://chat.example',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://chat.example');
    expect(preflight.headers.get('access-control-allow-headers')).toBe('authorization');
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');

    const allowed = await fetch(call, { headers: { origin: 'https://chat.example' } });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://chat.example');
    expect(await allowed.json()).toEqual({ result: { data: { json: 3 } } });

    const foreign = await fetch(call, { headers: { origin: 'https://evil.example' } });
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    expect(await foreign.text()).toBe('origin not allowed\n');

    const own = await fetch(call, { headers: { origin: `http://${new URL(test.url).host}` } });
    expect(own.status).toBe(200);
    expect((await fetch(call)).status).toBe(200);
    expect(await stockHttpClient(test.url).query('counter.add', { a: 2, b: 2 })).toBe(4);
  });
});

describe('caps and deadlines that keep one host from locking everyone out', () => {
  const whoami = async (raw: RawWsClient, id = 1) => {
    raw.send({ id, method: 'query', params: { path: 'counter.whoami' } });
    return raw.frame(id);
  };

  it('refuses WebSockets past the per-address cap with 503, while /healthz and HTTP calls still answer', async () => {
    await using test = await startProbeServer({
      endpoints: { counter: new CounterEndpoint() },
      connectionCaps: { perAddress: 2 },
    });
    const first = await RawWsClient.connect(test.wsUrl, 'token:a');
    await using _second = await RawWsClient.connect(test.wsUrl, 'token:b');
    await expect(RawWsClient.connect(test.wsUrl, 'token:c')).rejects.toThrow(/503/);
    expect((await fetch(`${test.url}/healthz`)).status).toBe(200);
    expect(await stockHttpClient(test.url, 'token:c').query('counter.whoami')).toBe('hello, user c');
    first.close();
    await first.closed;
    // A place came free: the server counts sockets as they close.
    const getsIn = () =>
      RawWsClient.connect(test.wsUrl, 'token:c').then(
        (raw) => (raw.close(), true),
        () => false,
      );
    await expect.poll(getsIn).toBe(true);
  });

  it('keeps serving another host while one address floods to its cap and beyond: calls stay fast, /healthz answers', async () => {
    await using test = await startProbeServer({
      endpoints: { counter: new CounterEndpoint() },
      connectionCaps: { perAddress: 100 },
    });
    await using ordinary = await RawWsClient.connect(test.wsUrl, 'token:kim', { localAddress: '127.0.0.2' });
    await whoami(ordinary, 0);
    // The flood: 100 sockets held from 127.0.0.1, then 300 more refused while the other host works.
    const held = await Promise.all(Array.from({ length: 100 }, () => RawWsClient.connect(test.wsUrl)));
    let refused = 0;
    const flood = (async () => {
      for (let i = 0; i < 300; i++)
        await RawWsClient.connect(test.wsUrl).then(
          (raw) => raw.close(),
          () => refused++,
        );
    })();
    const times: number[] = [];
    for (let id = 1; id <= 100; id++) {
      const started = performance.now();
      await whoami(ordinary, id);
      times.push(performance.now() - started);
      if (id % 25 === 0) expect((await fetch(`${test.url}/healthz`)).status).toBe(200);
    }
    await flood;
    expect(refused).toBe(300);
    times.sort((x, y) => x - y);
    // The bound for an ordinary client during a flood (a loaded CI machine still clears it by far).
    expect(times[98]).toBeLessThan(100);
    for (const raw of held) raw.close();
  });

  it('answers 503 to one socket too many from an address that holds unfinished requests; other hosts and WebSockets go on', async () => {
    await using test = await startProbeServer({
      endpoints: { counter: new CounterEndpoint() },
      connectionCaps: { httpPerAddress: 3 },
    });
    const port = Number(new URL(test.url).port);
    /** A socket that sends nothing, and everything it is sent until it closes. */
    const silent = async (localAddress = '127.0.0.1') => {
      const socket = connect({ host: '127.0.0.1', port, localAddress });
      await once(socket, 'connect');
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
      const closed = once(socket, 'close').then(() => text);
      return { socket, closed };
    };
    const held = [await silent(), await silent(), await silent()];
    const fourth = await silent();
    expect(await fourth.closed).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
    // Another host is served: an HTTP request, and a silent socket that stays open.
    const other = await silent('127.0.0.2');
    other.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(await other.closed).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    // A place comes free; a WebSocket takes it, and stops counting once it is one.
    held.pop()!.socket.destroy();
    const webSocket = () =>
      RawWsClient.connect(test.wsUrl, 'token:a').then(
        (raw) => raw,
        () => undefined,
      );
    await expect.poll(webSocket).toBeDefined();
    await using second = (await webSocket())!;
    expect(second).toBeDefined();
    const third = await silent();
    const fifth = await silent();
    expect(await fifth.closed).toMatch(/^HTTP\/1\.1 503/);
    // The third silent socket was let in (two WebSockets from the address do not count).
    third.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(await third.closed).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    for (const { socket } of held) socket.destroy();
  });

  it('closes an anonymous WebSocket that asks for nothing past anonymousIdleMs (1008); a signed-in one and one with a stream stay', async () => {
    await using test = await startProbeServer({ endpoints: { counter: new CounterEndpoint() }, anonymousIdleMs: 300 });
    const add = (raw: RawWsClient, id: number) => {
      raw.send({ id, method: 'query', params: { path: 'counter.add', input: { json: { a: id, b: 1 } } } });
      return raw.frame(id);
    };
    await using idle = await RawWsClient.connect(test.wsUrl);
    await using watching = await RawWsClient.connect(test.wsUrl);
    await using signedIn = await RawWsClient.connect(test.wsUrl, 'token:amy');
    expect(await add(idle, 1)).toMatchObject({ id: 1, result: { data: { json: 2 } } });
    const started = performance.now();
    watching.send({ id: 1, method: 'subscription', params: { path: 'counter.watch' } });
    await watching.frame(1, 2); // started, watching
    await whoami(signedIn);
    expect(await idle.closed).toEqual({ code: 1008, reason: 'idle without signing in' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
    // The sweep that closed it passed the other two just as idle: they are still served.
    expect(await add(watching, 2)).toMatchObject({ id: 2, result: { data: { json: 3 } } });
    expect(await whoami(signedIn, 3)).toMatchObject({ id: 3, result: { data: { json: 'hello, user amy' } } });
  });

  it("closes a user's connection past the per-user cap with 1013; another user gets in", async () => {
    await using test = await startProbeServer({
      endpoints: { counter: new CounterEndpoint() },
      connectionCaps: { perUser: 2 },
    });
    const mine = [
      await RawWsClient.connect(test.wsUrl, 'token:hal'),
      await RawWsClient.connect(test.wsUrl, 'token:hal'),
    ];
    for (const raw of mine) await whoami(raw);
    const third = await RawWsClient.connect(test.wsUrl, 'token:hal');
    expect(await third.closed).toEqual({ code: 1013, reason: 'too many connections for this user' });
    await using other = await RawWsClient.connect(test.wsUrl, 'token:ida');
    expect(await whoami(other)).toEqual({ id: 1, result: { type: 'data', data: { json: 'hello, user ida' } } });
    for (const raw of mine) raw.close();
  });

  it('closes a WebSocket that said it would sign in and did not, in time (1008)', async () => {
    await using test = await startProbeServer({ endpoints: { counter: new CounterEndpoint() }, authTimeoutMs: 200 });
    const silent = await RawWsClient.connect(`${test.wsUrl}?connectionParams=1`);
    expect(await silent.closed).toEqual({ code: 1008, reason: 'sign-in timed out' });
    // One that signs in stays.
    await using fine = await RawWsClient.connect(test.wsUrl, 'token:joe');
    expect(await whoami(fine)).toMatchObject({ result: { type: 'data' } });
  });

  it('drops an HTTP request whose headers never finish (408), not holding the socket', async () => {
    await using test = await startProbeServer({
      endpoints: { counter: new CounterEndpoint() },
      httpHeadersTimeoutMs: 300,
      httpRequestTimeoutMs: 600,
    });
    const socket = connect(Number(new URL(test.url).port), '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ');
    await once(socket, 'close');
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });
});

describe('connection limits, answered per request', () => {
  it('serves 150 calls and 150 subscriptions made in one tick by the stock client', async () => {
    await using test = await startProbeServer({ endpoints: { counter: new CounterEndpoint() } });
    await using client = stockWsClient(test.wsUrl, 'token:dave');
    const sums = await Promise.all(Array.from({ length: 150 }, (_, i) => client.query('counter.add', { a: i, b: 0 })));
    expect(sums).toEqual(Array.from({ length: 150 }, (_, i) => i));
    const done = new Recorder<number>();
    for (let i = 0; i < 150; i++) {
      client.subscription('counter.count', { to: 2 }, { onComplete: () => done.push(i) });
    }
    await done.until(() => done.entries.length === 150);
    expect(new Set(done.entries).size).toBe(150);
  });

  it('answers TOO_MANY_REQUESTS past maxSubscriptions and maxInFlight; the socket stays', async () => {
    const counter = new CounterEndpoint();
    await using test = await startProbeServer({
      endpoints: { counter },
      connectionLimits: { maxSubscriptions: 2, maxInFlight: 2 },
    });
    await using raw = await RawWsClient.connect(test.wsUrl);
    raw.send([1, 2, 3].map((id) => ({ id, method: 'subscription', params: { path: 'counter.watch' } })));
    expect(await raw.frame(3)).toMatchInlineSnapshot(`
      {
        "error": {
          "json": {
            "code": -32029,
            "data": {
              "code": "TOO_MANY_REQUESTS",
              "httpStatus": 429,
              "path": "counter.watch",
            },
            "message": "at most 2 subscriptions open at once on one connection",
          },
        },
        "id": 3,
      }
    `);
    expect(await raw.frame(2)).toEqual({ id: 2, result: { type: 'started' } });

    raw.send([4, 5, 6].map((id) => ({ id, method: 'query', params: { path: 'counter.slow' } })));
    expect(await raw.frame(6)).toMatchInlineSnapshot(`
      {
        "error": {
          "json": {
            "code": -32029,
            "data": {
              "code": "TOO_MANY_REQUESTS",
              "httpStatus": 429,
              "path": "counter.slow",
            },
            "message": "at most 2 calls at once on one connection",
          },
        },
        "id": 6,
      }
    `);
    await counter.slowCalls.untilCount('waiting', 2);
    counter.releaseSlow();
    expect(await raw.frame(4)).toEqual({ id: 4, result: { type: 'data', data: { json: 'done' } } });
    expect(await raw.frame(5)).toEqual({ id: 5, result: { type: 'data', data: { json: 'done' } } });

    // Room again once a subscription has stopped.
    raw.send({ id: 1, method: 'subscription.stop' });
    expect(await raw.frame(1, 3)).toEqual({ id: 1, result: { type: 'stopped' } });
    raw.send({ id: 7, method: 'subscription', params: { path: 'counter.watch' } });
    expect(await raw.frame(7)).toEqual({ id: 7, result: { type: 'started' } });
  });
});

describe('permessage-deflate', () => {
  /** The extensions the server agreed to, for a client that offers deflate. */
  async function negotiated(perMessageDeflate: boolean | undefined): Promise<string> {
    await using test = await startProbeServer({
      endpoints: { counter: new CounterEndpoint() },
      ...(perMessageDeflate === undefined ? {} : { perMessageDeflate }),
    });
    const client = await RawWsClient.connect(test.wsUrl, undefined, { perMessageDeflate: true });
    const { extensions } = client;
    client.close();
    await client.closed;
    return extensions;
  }

  it('is off unless asked for, and negotiated when it is', async () => {
    expect(await negotiated(undefined)).toBe('');
    expect(await negotiated(true)).toMatch(/^permessage-deflate/);
  });
});
