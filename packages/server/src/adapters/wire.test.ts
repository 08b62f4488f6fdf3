import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { get } from 'node:http';
import { openDatabase, type Database } from '../db/index.js';
import { createLogger } from '../observability/logger.js';
import { StreampodServer } from '../server.js';
import { CounterEndpoint, ProbeEndpoint } from '../testing/probe-endpoint.js';
import { RawWsClient } from '../testing/raw-ws.js';
import { Recorder } from '../testing/recorder.js';
import { startTestServer, type TestServer } from '../testing/test-server.js';
import { stockHttpClient, stockWsClient } from '../testing/trpc-clients.js';

let database: Database;
let server: TestServer;
beforeAll(async () => {
  database = await openDatabase({ dataDir: 'memory' });
  server = await startTestServer({
    endpoints: { probe: new ProbeEndpoint(), counter: new CounterEndpoint() },
    database,
  });
});
afterAll(async () => {
  await server.close();
  await database.close();
});

/** Sends a query over `raw` and returns its answer frame. */
async function add(raw: RawWsClient, id: number, [a, b]: [number, number]) {
  raw.send({ id, method: 'query', params: { path: 'counter.add', input: { json: { a, b } } } });
  return raw.frame(id);
}

describe('the WebSocket wire', () => {
  it('answers a frame that is not JSON with a PARSE_ERROR and keeps the connection', async () => {
    await using raw = await RawWsClient.connect(server.wsUrl);
    raw.send('not json');
    expect(await raw.frame(null)).toMatchInlineSnapshot(`
      {
        "error": {
          "json": {
            "code": -32700,
            "data": {
              "code": "PARSE_ERROR",
              "httpStatus": 400,
            },
            "message": "malformed message: Unexpected token 'o', "not json" is not valid JSON",
          },
        },
        "id": null,
      }
    `);
    expect(await add(raw, 1, [2, 3])).toEqual({ id: 1, result: { type: 'data', data: { json: 5 } } });
  });

  it('refuses binary frames by name and keeps the connection', async () => {
    await using raw = await RawWsClient.connect(server.wsUrl);
    raw.sendBinary(new Uint8Array([1, 2, 3]));
    expect(await raw.frame(null)).toMatchObject({
      error: {
        json: {
          message: 'binary frames are not supported: send JSON text frames',
          data: { code: 'UNSUPPORTED_MEDIA_TYPE' },
        },
      },
    });
    expect(await add(raw, 2, [1, 1])).toMatchObject({ result: { data: { json: 2 } } });
  });

  it('names the bad field of a bad input, and the same connection goes on', async () => {
    await using raw = await RawWsClient.connect(server.wsUrl);
    raw.send({ id: 3, method: 'query', params: { path: 'counter.add', input: { json: { a: 'one', b: 2 } } } });
    expect(await raw.frame(3)).toMatchObject({
      id: 3,
      error: {
        json: {
          message: 'a: Invalid input: expected number, received string',
          data: {
            code: 'BAD_REQUEST',
            path: 'counter.add',
            issues: [{ path: 'a', message: 'Invalid input: expected number, received string' }],
          },
        },
      },
    });
    raw.send({ id: 4, method: 'query', params: { path: 'counter.nope', input: { json: {} } } });
    expect(await raw.frame(4)).toMatchObject({ error: { json: { data: { code: 'NOT_FOUND' } } } });
    raw.send({ id: 5, method: 'fly', params: {} });
    expect(await raw.frame(5)).toMatchObject({ error: { json: { data: { code: 'PARSE_ERROR' } } } });
    expect(await add(raw, 6, [20, 22])).toMatchObject({ result: { data: { json: 42 } } });
  });

  it('closes with 1009 on a frame over 1 MiB, and other connections are unaffected', async () => {
    await using bystander = await RawWsClient.connect(server.wsUrl);
    const raw = await RawWsClient.connect(server.wsUrl);
    raw.send('x'.repeat(1024 * 1024 + 1));
    expect((await raw.closed).code).toBe(1009);
    expect(await add(bystander, 7, [1, 2])).toMatchObject({ result: { data: { json: 3 } } });
  });

  it('answers tRPC keep-alive PING with PONG', async () => {
    await using raw = await RawWsClient.connect(server.wsUrl);
    raw.send('PING');
    await raw.frames.untilCount('PONG');
  });

  it('runs a streaming method (async generator) to completion for the stock client', async () => {
    await using client = stockWsClient(server.wsUrl);
    const seen = new Recorder<unknown>();
    client.subscription(
      'counter.count',
      { to: 3 },
      { onData: (n) => seen.push(n), onComplete: () => seen.push('done') },
    );
    await seen.untilCount('done');
    expect(seen.entries).toEqual([1, 2, 3, 'done']);
  });
});

describe('HTTP', () => {
  it('serves /healthz, /metrics and 404', async () => {
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ok: true });

    await stockHttpClient(server.url).query('counter.add', { a: 1, b: 2 });
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toContain('# TYPE streampod_connections gauge');
    expect(metrics).toMatch(/streampod_calls_total\{path="counter.add",type="query"\} \d+/);
    expect(metrics).toContain('streampod_open_streams');

    expect((await fetch(`${server.url}/nothing-here`)).status).toBe(404);
  });

  it('batches calls over HTTP with the stock client', async () => {
    const client = stockHttpClient(server.url);
    const [a, b] = await Promise.all([
      client.query('counter.add', { a: 1, b: 1 }),
      client.query('counter.add', { a: 2, b: 2 }),
    ]);
    expect([a, b]).toEqual([2, 4]);
  });

  it('serves the web app from staticDir, with index.html for client routes and no escape from the folder', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'streampod-web-'));
    await mkdir(join(dir, 'assets'));
    await writeFile(join(dir, 'index.html'), '<h1>app</h1>');
    await writeFile(join(dir, 'assets', 'app.js'), 'console.log(1)');
    const web = new StreampodServer({
      endpoints: {},
      database,
      services: server.services,
      logger: createLogger('silent'),
      staticDir: dir,
    });
    const { url } = await web.listen({ port: 0, host: '127.0.0.1' });
    try {
      expect(await (await fetch(`${url}/`)).text()).toBe('<h1>app</h1>');
      expect(await (await fetch(`${url}/rooms/42`)).text()).toBe('<h1>app</h1>');
      const js = await fetch(`${url}/assets/app.js`);
      expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect(js.headers.get('cache-control')).toContain('immutable');
      // A raw request, since fetch would normalise the `..` away before sending.
      const secret = `secret-${process.pid}.txt`;
      await writeFile(join(dir, '..', secret), 'secret');
      const status = await new Promise<number | undefined>((resolve, reject) =>
        get(`${url}/../${secret}`, { path: `/../${secret}` }, (res) => {
          res.resume();
          resolve(res.statusCode);
        }).on('error', reject),
      );
      expect(status).toBe(404);
    } finally {
      await web.close();
    }
  });

  it('answers /healthz 503 and refuses upgrades once shutting down', async () => {
    const db = database;
    const local = await startTestServer({ endpoints: { counter: new CounterEndpoint() }, database: db });
    const closing = local.close();
    const health = await fetch(`${local.url}/healthz`).catch(() => null);
    expect(health === null || health.status === 503).toBe(true);
    await closing;
  });
});

describe('wire regressions', () => {
  it('a stop in the same frame as its subscribe stops a generator stream at once, with one stopped', async () => {
    const counter = new CounterEndpoint();
    const local = await startTestServer({ endpoints: { counter }, database });
    try {
      await using raw = await RawWsClient.connect(local.wsUrl);
      raw.send([
        { id: 1, method: 'subscription', params: { path: 'counter.ticker' } },
        { id: 1, method: 'subscription.stop' },
      ]);
      await counter.events.untilCount('ticker:finally');
      expect(await add(raw, 2, [1, 1])).toMatchObject({ result: { data: { json: 2 } } });
      expect(raw.framesFor(1)).toEqual([{ id: 1, result: { type: 'stopped' } }]);
    } finally {
      await local.close();
    }
  });

  it('answers every request of a batch, even next to a malformed one', async () => {
    await using raw = await RawWsClient.connect(server.wsUrl);
    raw.send([
      { id: 1, method: 'query', params: { path: 'counter.add', input: { json: { a: 1, b: 2 } } } },
      { id: 2, method: 'fly', params: {} },
    ]);
    expect(await raw.frame(1)).toMatchObject({ result: { data: { json: 3 } } });
    expect(await raw.frame(2)).toMatchObject({ id: 2, error: { json: { data: { code: 'PARSE_ERROR' } } } });
  });

  it('refuses a batch of more than 100 requests, answering each', async () => {
    await using raw = await RawWsClient.connect(server.wsUrl);
    raw.send(
      Array.from({ length: 101 }, (_, i) => ({
        id: i + 1,
        method: 'query',
        params: { path: 'counter.add', input: { json: { a: 1, b: 1 } } },
      })),
    );
    expect(await raw.frame(101)).toMatchObject({
      error: { json: { message: 'at most 100 requests per frame', data: { code: 'BAD_REQUEST' } } },
    });
    expect(raw.framesFor(1)).toHaveLength(1);
  });

  it('hides the message of an internal error from the client', async () => {
    await using raw = await RawWsClient.connect(server.wsUrl);
    raw.send({ id: 1, method: 'query', params: { path: 'counter.boom' } });
    expect(await raw.frame(1)).toMatchObject({
      error: { json: { message: 'Internal server error', data: { code: 'INTERNAL_SERVER_ERROR' } } },
    });
    expect(JSON.stringify(raw.framesFor(1))).not.toContain('secret_table');
  });

  it('runs a push method: one registration per subscriber, cleaned up on stop', async () => {
    const counter = new CounterEndpoint();
    const local = await startTestServer({ endpoints: { counter }, database });
    try {
      await using client = stockWsClient(local.wsUrl);
      const seen = new Recorder<unknown>();
      const sub = client.subscription('counter.watch', undefined, { onData: (v) => seen.push(v) });
      await seen.untilCount('watching');
      expect(counter.watchers.size).toBe(1);
      sub.unsubscribe();
      await counter.events.untilCount('watch:closed');
      expect(counter.watchers.size).toBe(0);
    } finally {
      await local.close();
    }
  });
});
