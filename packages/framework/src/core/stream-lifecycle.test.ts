import { TRPCClientError } from '@trpc/client';
import type { AnyTRPCRouter } from '@trpc/server';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FreezableProxy } from '../testing/freezable-proxy.js';
import { ProbeEndpoint, startProbeServer } from '../testing/probe-app.js';
import { RawWsClient } from '../testing/raw-ws.js';
import { Recorder } from '../testing/recorder.js';
import type { TestServer } from '../testing/test-server.js';
import { stockWsClient } from '../testing/trpc-clients.js';

let probe: ProbeEndpoint;
let server: TestServer;

beforeEach(async () => {
  probe = new ProbeEndpoint();
  server = await startProbeServer({ endpoints: { probe }, heartbeatIntervalMs: 25, presenceTimeoutMs: 150 });
});
afterEach(() => server.close());

/** Opens `probe.stream` with the stock client and records what the subscriber sees. */
function subscribe(client: ReturnType<typeof stockWsClient>, input: object = {}) {
  const seen = new Recorder<string>();
  const sub = client.subscription('probe.stream', input, {
    onData: (data) => seen.push(`data:${(data as { data: { text: string } }).data.text}`),
    onError: (error) => seen.push(`error:${error.data?.code ?? '?'}`),
    onComplete: () => seen.push('complete'),
  });
  return { seen, sub };
}

describe('streamOpened / streamClosed run exactly once for every way a stream ends', () => {
  it('the client stops the subscription', async () => {
    await using client = stockWsClient(server.wsUrl);
    const { seen, sub } = subscribe(client);
    await seen.untilCount('data:welcome');
    sub.unsubscribe();
    await probe.hooks.untilCount('closed:ok');
    expect(probe.hooks.entries).toEqual(['opened:-', 'closed:ok']);
  });

  it('the client closes its socket', async () => {
    const client = stockWsClient(server.wsUrl);
    const { seen } = subscribe(client);
    await seen.untilCount('data:welcome');
    await client.close();
    await probe.hooks.untilCount('closed:ok');
    expect(probe.hooks.entries).toEqual(['opened:-', 'closed:ok']);
  });

  it('the socket goes silent without a close frame (heartbeat timeout)', async () => {
    await using proxy = await FreezableProxy.start(Number(new URL(server.url).port));
    await using raw = await RawWsClient.connect(`ws://127.0.0.1:${proxy.port}/trpc`);
    raw.send({ id: 1, method: 'subscription', params: { path: 'probe.stream', input: { json: {} } } });
    await raw.frame(1, 2); // started, then the welcome event
    proxy.freeze();
    await probe.hooks.untilCount('closed:ok');
    expect(probe.hooks.entries).toEqual(['opened:-', 'closed:ok']);
    expect([...server.server.connections]).toHaveLength(0);
  });

  it('the server ends it with session.close()', async () => {
    await using client = stockWsClient(server.wsUrl);
    const { seen } = subscribe(client);
    await seen.untilCount('data:welcome');
    await client.mutation('probe.sendStreamMessage', { kind: 'close' });
    await seen.untilCount('complete');
    expect(probe.hooks.entries).toEqual(['opened:-', 'closed:ok']);
    // The connection itself lives on.
    await client.mutation('probe.sendStreamMessage', { kind: 'close' }).catch(() => undefined);
    expect([...server.server.connections]).toHaveLength(1);
  });

  it('the server shuts down: every hook has run by the time close() resolves', async () => {
    const clients = [stockWsClient(server.wsUrl), stockWsClient(server.wsUrl), stockWsClient(server.wsUrl)];
    const subs = clients.map((c) => subscribe(c));
    await Promise.all(subs.map(({ seen }) => seen.untilCount('data:welcome')));
    await server.close();
    expect(probe.hooks.count('opened:-')).toBe(3);
    expect(probe.hooks.count('closed:ok')).toBe(3);
    await Promise.all(clients.map((c) => c.close()));
  });

  it('a stop that arrives while streamOpened is still running closes it once opened', async () => {
    await using raw = await RawWsClient.connect(server.wsUrl);
    raw.send({ id: 1, method: 'subscription', params: { path: 'probe.stream', input: { json: { slowOpen: true } } } });
    await probe.hooks.untilCount('opening');
    raw.send({ id: 1, method: 'subscription.stop' });
    probe.releaseSlowOpen();
    await probe.hooks.untilCount('closed:ok');
    expect(probe.hooks.entries).toEqual(['opening', 'opened:-', 'closed:ok']);
  });

  it('a stream stopped or closed while opening: started, what it sent, stopped, in order; its id is free again', async () => {
    await using raw = await RawWsClient.connect(server.wsUrl);
    const kinds = (id: number) => raw.framesFor(id).map((f) => (f as { result: { type: string } }).result.type);
    const open = (id: number, input: object) =>
      raw.send({ id, method: 'subscription', params: { path: 'probe.stream', input: { json: input } } });
    open(1, { slowOpen: true });
    await probe.hooks.untilCount('opening');
    raw.send({ id: 1, method: 'subscription.stop' });
    probe.releaseSlowOpen();
    await raw.frame(1, 3);
    open(2, { closeInOpen: true });
    await raw.frame(2, 3);
    expect([kinds(1), kinds(2)]).toEqual([
      ['started', 'data', 'stopped'],
      ['started', 'data', 'stopped'],
    ]);
    // Both ids were let go of: each opens a stream again, and it stays open.
    open(1, {});
    open(2, {});
    await Promise.all([raw.frame(1, 5), raw.frame(2, 5)]);
    expect([kinds(1).slice(3), kinds(2).slice(3)]).toEqual([
      ['started', 'data'],
      ['started', 'data'],
    ]);
    expect(probe.hooks.count('closed:ok')).toBe(2);
  });

  it('an event sent while opening that cannot be serialized is logged; the stream opens and goes on', async () => {
    const logged: { msg?: string }[] = [];
    const logger = pino(
      { level: 'error' },
      { write: (line: string) => void logged.push(JSON.parse(line) as { msg?: string }) },
    );
    await using local = await startProbeServer({ endpoints: { probe }, logger });
    await using raw = await RawWsClient.connect(local.wsUrl);
    const frames = (id: number) =>
      raw.framesFor(id).map((f) => {
        const { result } = f as { result: { type: string; data?: { json: { data: { text: string } } } } };
        return result.data?.json.data.text ?? result.type;
      });
    raw.send({
      id: 1,
      method: 'subscription',
      params: { path: 'probe.stream', input: { json: { poisonInOpen: true } } },
    });
    await raw.frame(1, 2);
    const echo = { kind: 'echo', text: 'still' };
    raw.send({ id: 2, method: 'mutation', params: { path: 'probe.sendStreamMessage', input: { json: echo } } });
    await raw.frame(1, 3);
    raw.send({ id: 1, method: 'subscription.stop' });
    await raw.frame(1, 4);
    expect(frames(1)).toEqual(['started', 'welcome', 'still', 'stopped']);
    await probe.hooks.untilCount('closed:ok');
    expect(logged.map((line) => line.msg)).toEqual(['this value does not serialize']);
  });

  it('a stream refused by streamOpened fails with its code and never runs streamClosed', async () => {
    await using client = stockWsClient(server.wsUrl);
    const { seen } = subscribe(client, { refuse: true });
    await seen.untilCount('error:FORBIDDEN');
    const { seen: second } = subscribe(client);
    await second.untilCount('data:welcome');
    expect(probe.hooks.entries).toEqual(['opened:-']);
  });
});

describe('stream messages', () => {
  it('a bad message fails with BAD_REQUEST naming the field; the stream goes on', async () => {
    await using client = stockWsClient(server.wsUrl);
    const { seen } = subscribe(client);
    await seen.untilCount('data:welcome');
    const error = await client
      .mutation('probe.sendStreamMessage', { kind: 'echo', text: 'far too long a text' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TRPCClientError);
    expect((error as TRPCClientError<AnyTRPCRouter>).message).toBe(
      'text: Too big: expected string to have <=10 characters',
    );
    expect((error as TRPCClientError<AnyTRPCRouter>).data?.code).toBe('BAD_REQUEST');
    const unknownKind = await client.mutation('probe.sendStreamMessage', { kind: 'dance' }).catch((e: unknown) => e);
    expect((unknownKind as TRPCClientError<AnyTRPCRouter>).message).toMatch(/^kind: /);
    await client.mutation('probe.sendStreamMessage', { kind: 'echo', text: 'still here' });
    await seen.untilCount('data:still here');
  });

  it('reaches a stream subscribed in the same frame, after streamOpened', async () => {
    await using raw = await RawWsClient.connect(server.wsUrl);
    raw.send([
      { id: 1, method: 'subscription', params: { path: 'probe.stream', input: { json: { slowOpen: true } } } },
      {
        id: 2,
        method: 'mutation',
        params: { path: 'probe.sendStreamMessage', input: { json: { kind: 'echo', text: 'hi' } } },
      },
    ]);
    await probe.hooks.untilCount('opening');
    probe.releaseSlowOpen();
    expect(await raw.frame(2)).toEqual({
      id: 2,
      result: { type: 'data', data: { json: null, meta: { values: ['undefined'], v: 1 } } },
    });
    const texts = async () => {
      await raw.frame(1, 3);
      return raw
        .framesFor(1)
        .map((f) => (f as { result: { data?: { json: { data: { text: string } } } } }).result.data?.json.data.text);
    };
    expect(await texts()).toEqual([undefined, 'welcome', 'hi']);
  });

  it('needs an open stream on the same connection', async () => {
    await using client = stockWsClient(server.wsUrl);
    const error = await client
      .mutation('probe.sendStreamMessage', { kind: 'echo', text: 'hi' })
      .catch((e: unknown) => e);
    expect((error as TRPCClientError<AnyTRPCRouter>).data?.code).toBe('PRECONDITION_FAILED');
    expect((error as TRPCClientError<AnyTRPCRouter>).message).toBe('open probe.stream on this connection first');
  });

  it('serves several streams on one connection: each gets every event once', async () => {
    await using client = stockWsClient(server.wsUrl);
    const first = subscribe(client);
    const second = subscribe(client);
    await first.seen.untilCount('data:welcome');
    await second.seen.untilCount('data:welcome');
    await client.mutation('probe.sendStreamMessage', { kind: 'echo', text: 'both' });
    await first.seen.untilCount('data:both');
    await second.seen.untilCount('data:both');
    await client.mutation('probe.sendStreamMessage', { kind: 'echo', text: 'again' });
    await first.seen.untilCount('data:again');
    await second.seen.untilCount('data:again');
    expect(first.seen.entries).toEqual(['data:welcome', 'data:both', 'data:again']);
    expect(second.seen.entries).toEqual(['data:welcome', 'data:both', 'data:again']);
    second.sub.unsubscribe();
    await probe.hooks.untilCount('closed:ok');
    await client.mutation('probe.sendStreamMessage', { kind: 'echo', text: 'one' });
    await first.seen.untilCount('data:one');
    expect(second.seen.entries.filter((e) => e.startsWith('data:'))).toEqual([
      'data:welcome',
      'data:both',
      'data:again',
    ]);
  });
});

describe('tracked event ids', () => {
  it('carries the cursor in every id, and resumes from it', async () => {
    await using raw = await RawWsClient.connect(server.wsUrl);
    raw.send({ id: 7, method: 'subscription', params: { path: 'probe.stream', input: { json: {} } } });
    expect(await raw.frame(7, 1)).toEqual({ id: 7, result: { type: 'started' } });
    expect(await raw.frame(7, 2)).toEqual({
      id: 7,
      result: {
        type: 'data',
        id: '0~1',
        data: {
          json: { id: '0~1', data: { text: 'welcome', at: '1970-01-01T00:00:00.000Z' } },
          meta: { values: { 'data.at': ['Date'] }, v: 1 },
        },
      },
    });
    raw.send({
      id: 8,
      method: 'mutation',
      params: { path: 'probe.sendStreamMessage', input: { json: { kind: 'stamp', cursor: '42' } } },
    });
    raw.send({
      id: 9,
      method: 'mutation',
      params: { path: 'probe.sendStreamMessage', input: { json: { kind: 'echo', text: 'after' } } },
    });
    expect(((await raw.frame(7, 3)) as { result: { id: string } }).result.id).toBe('42');
    expect(((await raw.frame(7, 4)) as { result: { id: string } }).result.id).toBe('42~1');

    raw.send({ id: 7, method: 'subscription.stop' });
    expect(await raw.frame(7, 5)).toEqual({ id: 7, result: { type: 'stopped' } });
    raw.send({
      id: 11,
      method: 'subscription',
      params: { path: 'probe.stream', input: { json: {} }, lastEventId: '42~1' },
    });
    await raw.frame(11, 2);
    expect(probe.hooks.entries).toContain('opened:42');
  });
});

describe('regressions: hooks that fail, closes that race', () => {
  it('a streamClosed that throws is logged; the process, the connection close and other streams go on', async () => {
    const closes = new Recorder<string>();
    const local = await startProbeServer({
      endpoints: { probe },
      hooks: { onConnectionOpen: () => closes.push('open'), onConnectionClose: () => closes.push('close') },
    });
    try {
      await using raw = await RawWsClient.connect(local.wsUrl);
      raw.send({
        id: 1,
        method: 'subscription',
        params: { path: 'probe.stream', input: { json: { throwOnClose: true } } },
      });
      await raw.frame(1, 2);
      raw.send({ id: 1, method: 'subscription.stop' });
      expect(await raw.frame(1, 3)).toEqual({ id: 1, result: { type: 'stopped' } });
      raw.send({
        id: 2,
        method: 'subscription',
        params: { path: 'probe.stream', input: { json: { throwOnClose: true } } },
      });
      await raw.frame(2, 2);
      raw.close();
      await closes.untilCount('close');
      expect(probe.hooks.count('closed:ok')).toBe(2);
      expect(closes.entries).toEqual(['open', 'close']);
    } finally {
      await local.close();
    }
  });

  it('session.close() inside streamOpened does not deadlock: the stream opens, then closes once', async () => {
    await using client = stockWsClient(server.wsUrl);
    const { seen } = subscribe(client, { closeInOpen: true });
    await seen.untilCount('complete');
    expect(probe.hooks.entries).toEqual(['opened:-', 'closed:ok']);
  });

  it('shutdown waits for streams that are still opening', async () => {
    await using raw = await RawWsClient.connect(server.wsUrl);
    raw.send({ id: 1, method: 'subscription', params: { path: 'probe.stream', input: { json: { slowOpen: true } } } });
    await probe.hooks.untilCount('opening');
    const closing = server.close();
    probe.releaseSlowOpen();
    await closing;
    expect(probe.hooks.entries).toEqual(['opening', 'opened:-', 'closed:ok']);
  });

  it('serves no subscriptions over HTTP (SSE): streams live on the WebSocket only', async () => {
    const response = await fetch(`${server.url}/trpc/probe.stream`, { headers: { accept: 'text/event-stream' } });
    expect(response.status).toBe(405);
    expect(await response.text()).toBe('subscriptions are served over the WebSocket at /trpc\n');
    expect(probe.hooks.entries).toEqual([]);
  });
});

describe('connection hooks', () => {
  it('run onConnectionOpen once the credentials are known, and onConnectionClose after it, once', async () => {
    const seen = new Recorder<string>();
    const local = await startProbeServer({
      endpoints: { probe },
      hooks: {
        onConnectionOpen: (c) => seen.push(`open:${c.user?.name ?? 'anonymous'}`),
        onConnectionClose: (c) => seen.push(`close:${c.owner?.name ?? 'anonymous'}`),
      },
    });
    try {
      const alice = await RawWsClient.connect(local.wsUrl, 'token:alice');
      await seen.untilCount('open:user alice');
      alice.close();
      await seen.untilCount('close:user alice');

      // A socket that goes before sending its connectionParams was never a user: no hooks.
      const silent = await RawWsClient.connect(`${local.wsUrl}?connectionParams=1`);
      silent.close();
      await silent.closed;
      const anonymous = await RawWsClient.connect(local.wsUrl);
      await seen.untilCount('open:anonymous');
      await local.close();
      await anonymous.closed;
      expect(seen.entries).toEqual(['open:user alice', 'close:user alice', 'open:anonymous', 'close:anonymous']);
    } finally {
      await local.close();
    }
  });
});
