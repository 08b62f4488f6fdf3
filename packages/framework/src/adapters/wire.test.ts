import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { get } from 'node:http';
import { Socket } from 'node:net';
import { createLogger } from '../host/logger.js';
import { CounterEndpoint, ProbeEndpoint, sp, startProbeServer } from '../testing/probe-app.js';
import { RawWsClient } from '../testing/raw-ws.js';
import { Recorder } from '../testing/recorder.js';
import type { TestServer } from '../testing/test-server.js';
import { stockHttpClient, stockWsClient } from '../testing/trpc-clients.js';

let server: TestServer;
beforeAll(async () => {
  server = await startProbeServer({ endpoints: { probe: new ProbeEndpoint(), counter: new CounterEndpoint() } });
});
afterAll(() => server.close());

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
    expect(await raw.frame(null)).toMatchInlineSnapshot(`
      {
        "error": {
          "json": {
            "code": -32015,
            "data": {
              "code": "UNSUPPORTED_MEDIA_TYPE",
              "httpStatus": 415,
            },
            "message": "binary frames are not supported: send JSON text frames",
          },
        },
        "id": null,
      }
    `);
    expect(await add(raw, 2, [1, 1])).toEqual({ id: 2, result: { type: 'data', data: { json: 2 } } });
  });

  it('names the bad field of a bad input, and the same connection goes on', async () => {
    await using raw = await RawWsClient.connect(server.wsUrl);
    raw.send({ id: 3, method: 'query', params: { path: 'counter.add', input: { json: { a: 'one', b: 2 } } } });
    expect(await raw.frame(3)).toMatchInlineSnapshot(`
      {
        "error": {
          "json": {
            "code": -32600,
            "data": {
              "code": "BAD_REQUEST",
              "httpStatus": 400,
              "issues": [
                {
                  "message": "Invalid input: expected number, received string",
                  "path": "a",
                },
              ],
              "path": "counter.add",
            },
            "message": "a: Invalid input: expected number, received string",
          },
        },
        "id": 3,
      }
    `);
    raw.send({ id: 4, method: 'query', params: { path: 'counter.nope', input: { json: {} } } });
    expect(await raw.frame(4)).toMatchInlineSnapshot(`
      {
        "error": {
          "json": {
            "code": -32004,
            "data": {
              "code": "NOT_FOUND",
              "httpStatus": 404,
              "path": "counter.nope",
            },
            "message": "No "query"-procedure on path "counter.nope"",
          },
        },
        "id": 4,
      }
    `);
    raw.send({ id: 5, method: 'fly', params: {} });
    expect(await raw.frame(5)).toMatchInlineSnapshot(`
      {
        "error": {
          "json": {
            "code": -32700,
            "data": {
              "code": "PARSE_ERROR",
              "httpStatus": 400,
            },
            "message": "malformed message: Invalid procedure type",
          },
        },
        "id": 5,
      }
    `);
    expect(await add(raw, 6, [20, 22])).toEqual({ id: 6, result: { type: 'data', data: { json: 42 } } });
  });

  it('answers each request of a frame over 1 MiB with PAYLOAD_TOO_LARGE, runs none, and keeps the socket', async () => {
    await using raw = await RawWsClient.connect(server.wsUrl);
    const padding = 'x'.repeat(1024 * 1024);
    raw.send([
      { id: 11, method: 'query', params: { path: 'counter.add', input: { json: { a: 1, b: 2, padding } } } },
      { id: 12, method: 'mutation', params: { path: 'counter.add', input: { json: { a: 3, b: 4 } } } },
    ]);
    for (const id of [11, 12]) {
      expect(await raw.frame(id)).toMatchObject({
        id,
        error: {
          json: {
            data: { code: 'PAYLOAD_TOO_LARGE' },
            message: expect.stringMatching(/over the 1048576-byte limit$/) as string,
          },
        },
      });
    }
    expect(await add(raw, 13, [1, 2])).toEqual({ id: 13, result: { type: 'data', data: { json: 3 } } });
  });

  it('closes with 1009 on a frame over the hard limit (4 MiB), and other connections are unaffected', async () => {
    await using bystander = await RawWsClient.connect(server.wsUrl);
    const raw = await RawWsClient.connect(server.wsUrl);
    raw.send('x'.repeat(4 * 1024 * 1024 + 1));
    expect((await raw.closed).code).toBe(1009);
    expect(await add(bystander, 7, [1, 2])).toEqual({ id: 7, result: { type: 'data', data: { json: 3 } } });
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
    expect(await health.json()).toEqual({ ok: true, connections: expect.any(Number), degraded: false });

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
    const web = sp.server({
      endpoints: {},
      services: { greeting: 'hi' },
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

  it('while handing clients off, answers /healthz 503 and refuses upgrades with 503, then stops', async () => {
    const local = await startProbeServer({ endpoints: { counter: new CounterEndpoint() }, shutdownHandoffMs: 30_000 });
    const lingering = await RawWsClient.connect(local.wsUrl);
    const closing = local.close();
    await lingering.frames.untilCount('{"id":null,"method":"reconnect"}');
    const health = await fetch(`${local.url}/healthz`);
    expect(health.status).toBe(503);
    expect(await health.json()).toEqual({ ok: false, connections: 1, degraded: false });
    await expect(RawWsClient.connect(local.wsUrl)).rejects.toThrow('Unexpected server response: 503');
    lingering.close();
    await closing;
    await expect(fetch(`${local.url}/healthz`)).rejects.toThrow('fetch failed');
  });
});

describe('wire regressions', () => {
  it('a stop in the same frame as its subscribe stops a generator stream at once, with one stopped', async () => {
    const counter = new CounterEndpoint();
    const local = await startProbeServer({ endpoints: { counter } });
    try {
      await using raw = await RawWsClient.connect(local.wsUrl);
      raw.send([
        { id: 1, method: 'subscription', params: { path: 'counter.ticker' } },
        { id: 1, method: 'subscription.stop' },
      ]);
      expect(await raw.frame(1)).toEqual({ id: 1, result: { type: 'stopped' } });
      expect(await add(raw, 2, [1, 1])).toEqual({ id: 2, result: { type: 'data', data: { json: 2 } } });
      expect(raw.framesFor(1)).toEqual([{ id: 1, result: { type: 'stopped' } }]);
      // The generator never started, so there is nothing to tear down.
      expect(counter.events.entries).toEqual([]);

      // A running one is torn down by a stop, and answered with one `stopped`.
      raw.send({ id: 3, method: 'subscription', params: { path: 'counter.ticker' } });
      await raw.frame(3, 4);
      raw.send({ id: 3, method: 'subscription.stop' });
      await counter.events.untilCount('ticker:finally');
      await raw.frames.until(() => raw.framesFor(3).some((f) => JSON.stringify(f).includes('stopped')));
      expect(await add(raw, 4, [2, 2])).toEqual({ id: 4, result: { type: 'data', data: { json: 4 } } });
      const frames = raw.framesFor(3);
      expect(frames[0]).toEqual({ id: 3, result: { type: 'started' } });
      expect(frames.at(-1)).toEqual({ id: 3, result: { type: 'stopped' } });
      expect(frames.filter((f) => JSON.stringify(f).includes('stopped'))).toHaveLength(1);
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
    expect(await raw.frame(1)).toMatchInlineSnapshot(`
      {
        "id": 1,
        "result": {
          "data": {
            "json": 3,
          },
          "type": "data",
        },
      }
    `);
    expect(await raw.frame(2)).toMatchInlineSnapshot(`
      {
        "error": {
          "json": {
            "code": -32700,
            "data": {
              "code": "PARSE_ERROR",
              "httpStatus": 400,
            },
            "message": "malformed message: Invalid procedure type",
          },
        },
        "id": 2,
      }
    `);
  });

  it('serves a batch of 150 requests in one frame, as the stock client sends one tick of calls', async () => {
    await using raw = await RawWsClient.connect(server.wsUrl);
    raw.send(
      Array.from({ length: 150 }, (_, i) => ({
        id: i + 1,
        method: 'query',
        params: { path: 'counter.add', input: { json: { a: i, b: 1 } } },
      })),
    );
    await raw.frame(150);
    const answers = Array.from({ length: 150 }, (_, i) => raw.framesFor(i + 1));
    expect(answers).toEqual(
      Array.from({ length: 150 }, (_, i) => [{ id: i + 1, result: { type: 'data', data: { json: i + 1 } } }]),
    );
  });

  it('hides the message of an internal error from the client', async () => {
    await using raw = await RawWsClient.connect(server.wsUrl);
    raw.send({ id: 1, method: 'query', params: { path: 'counter.boom' } });
    expect(await raw.frame(1)).toMatchInlineSnapshot(`
      {
        "error": {
          "json": {
            "code": -32603,
            "data": {
              "code": "INTERNAL_SERVER_ERROR",
              "httpStatus": 500,
              "path": "counter.boom",
            },
            "message": "Internal server error",
          },
        },
        "id": 1,
      }
    `);
    expect(JSON.stringify(raw.framesFor(1))).not.toContain('secret_table');
  });

  it('sends the frames of one turn of the event loop in one write, in order', async () => {
    const counter = new CounterEndpoint();
    const local = await startProbeServer({ endpoints: { counter } });
    try {
      await using client = stockWsClient(local.wsUrl);
      const seen = new Recorder<unknown>();
      client.subscription('counter.watch', undefined, { onData: (v) => seen.push(v) });
      await seen.untilCount('watching');
      // Every write in this process from here on is the server's: the client only reads.
      const writev = vi.spyOn(Socket.prototype as unknown as { _writev: () => void }, '_writev');
      const write = vi.spyOn(Socket.prototype as unknown as { _write: () => void }, '_write');
      try {
        const events = Array.from({ length: 50 }, (_, i) => `event ${i}`);
        for (const event of events) for (const session of counter.watchers) session.sendStreamMessage(event);
        await seen.untilCount(events.at(-1)!);
        expect(seen.entries).toEqual(['watching', ...events]);
        // Not one system call per frame, as each `ws.send` would make on its own.
        expect(writev.mock.calls.length + write.mock.calls.length).toBe(1);
      } finally {
        writev.mockRestore();
        write.mockRestore();
      }
    } finally {
      await local.close();
    }
  });

  it('runs a push method: one registration per subscriber, cleaned up on stop', async () => {
    const counter = new CounterEndpoint();
    const local = await startProbeServer({ endpoints: { counter } });
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
