import { createServer, type AddressInfo } from 'node:net';
import {
  CounterEndpoint,
  FreezableProxy,
  ProbeEndpoint,
  Recorder,
  startProbeServer,
  type TestServer,
} from '@streampod/framework/testing';
import { afterEach, beforeEach, describe, expect, expectTypeOf, it } from 'vitest';
import type { ConnectionState } from './client.js';
import { PendingCallsFullError } from './errors.js';
import { probeClient } from './probe-client.fixture.js';

let probe: ProbeEndpoint;
let server: TestServer;
beforeEach(async () => {
  probe = new ProbeEndpoint();
  server = await startProbeServer({ endpoints: { probe, counter: new CounterEndpoint() } });
});
afterEach(() => server.close());

describe('a client for any generated API', () => {
  it('calls and streams, typed, on Node without being given a WebSocket class', async () => {
    const client = probeClient(server.url);
    expectTypeOf(client.counter.add).toEqualTypeOf<(input: { a: number; b: number }) => Promise<number>>();
    expect(await client.counter.add({ a: 2, b: 3 })).toBe(5);
    const counted: number[] = [];
    for await (const n of client.counter.count({ to: 3 })) counted.push(n);
    expect(counted).toEqual([1, 2, 3]);
    await client.close();
  });

  it('reports its connection state: connecting, connected, reconnecting, connected, closed', async () => {
    await using proxy = await FreezableProxy.start(Number(new URL(server.url).port));
    const client = probeClient(`http://127.0.0.1:${proxy.port}`);
    const states = new Recorder<ConnectionState>();
    client.onConnectionChange(() => states.push(client.connectionState));
    expect(client.connectionState).toBe('connecting');
    expect(await client.counter.add({ a: 1, b: 1 })).toBe(2);
    await states.untilCount('connected');
    proxy.cut();
    await states.untilCount('reconnecting');
    await states.untilCount('connected', 2);
    await client.close();
    expect(client.connectionState).toBe('closed');
    expect(states.entries).toEqual(['connected', 'reconnecting', 'connected', 'closed']);
  });

  it('reports reconnecting when the server cannot be reached at first, and connects once it can', async () => {
    const nothing = createServer();
    await new Promise<void>((resolve) => nothing.listen(0, '127.0.0.1', resolve));
    const deadPort = (nothing.address() as AddressInfo).port;
    await new Promise((resolve) => nothing.close(resolve));
    await using proxy = await FreezableProxy.start(deadPort);
    const client = probeClient(`http://127.0.0.1:${proxy.port}`);
    const states = new Recorder<ConnectionState>();
    client.onConnectionChange(() => states.push(client.connectionState));
    const answer = client.counter.add({ a: 2, b: 2 });
    await states.untilCount('reconnecting');
    proxy.retarget(Number(new URL(server.url).port));
    expect(await answer).toBe(4);
    await states.untilCount('connected');
    expect(states.entries.slice(0, 1)).toEqual(['reconnecting']);
    await client.close();
  });

  it('iterates a stream with for await, and breaking out closes it on the server', async () => {
    const client = probeClient(server.url);
    for await (const event of client.probe.stream()) {
      expectTypeOf(event).toEqualTypeOf<{ text: string; at: Date }>();
      expect(event).toEqual({ text: 'welcome', at: new Date(0) });
      break;
    }
    await probe.hooks.untilCount('closed:ok');
    await client.close();
  });

  it('resumes a stream after the network drops, from the last event it saw', async () => {
    await using proxy = await FreezableProxy.start(Number(new URL(server.url).port));
    const client = probeClient(`http://127.0.0.1:${proxy.port}`);
    const seen = new Recorder<string>();
    const subscription = client.probe.stream();
    subscription.listen({ onData: (e) => seen.push(e.text) });
    await seen.untilCount('welcome');
    await client.probe.sendStreamMessage({ kind: 'stamp', cursor: '42' });
    await client.probe.sendStreamMessage({ kind: 'echo', text: 'after' });
    await seen.untilCount('after');
    expect(subscription.lastEventId).toBe('42~1');

    proxy.cut();
    await probe.hooks.untilCount('opened:42');
    await seen.untilCount('welcome', 2);
    expect(probe.hooks.count('closed:ok')).toBe(1);
    await client.close();
  });

  it('moves open streams to a new connection on reconnect(), resuming them', async () => {
    const client = probeClient(server.url);
    const seen = new Recorder<string>();
    client.probe.stream().listen({ onData: (e) => seen.push(e.text) });
    await seen.untilCount('welcome');
    await client.probe.sendStreamMessage({ kind: 'stamp', cursor: '7' });
    await seen.untilCount('stamp 7');
    client.reconnect();
    await probe.hooks.untilCount('opened:7');
    await probe.hooks.untilCount('closed:ok');
    await seen.untilCount('welcome', 2);
    await client.close();
  });
});

describe('reconnect() regressions', () => {
  it('a moved subscription stays one subscription: close() still stops it, and it follows the next reconnect', async () => {
    const client = probeClient(server.url);
    const seen = new Recorder<string>();
    const completed = new Recorder<string>();
    const subscription = client.probe.stream();
    const stop = subscription.listen({
      onData: (e) => seen.push(e.text),
      onComplete: () => completed.push('complete'),
    });
    await seen.untilCount('welcome');
    client.reconnect();
    await seen.untilCount('welcome', 2);
    client.reconnect();
    await seen.untilCount('welcome', 3);
    expect(completed.entries).toEqual([]);
    stop();
    await probe.hooks.untilCount('closed:ok', 3);
    // Three opens (one per connection), three closes, and nothing left open.
    expect(probe.hooks.entries.filter((h) => h.startsWith('opened:'))).toHaveLength(3);
    await client.close();
  });
});

describe('the pending calls bound', () => {
  it('fails a call at once beyond maxPendingCalls waiting for the server, and takes calls again once answered', async () => {
    await using proxy = await FreezableProxy.start(Number(new URL(server.url).port));
    const client = probeClient(`http://127.0.0.1:${proxy.port}`, {
      maxPendingCalls: 3,
      keepAlive: { intervalMs: 60_000, pongTimeoutMs: 60_000 },
    });
    const add = (a: number) => client.counter.add({ a, b: 1 });
    expect(await Promise.all([add(1), add(2), add(3)])).toEqual([2, 3, 4]);
    expect(await Promise.all([add(4), add(5), add(6)])).toEqual([5, 6, 7]);

    proxy.freeze(); // the server is there but answers nothing
    const waiting = [add(7), add(8), add(9)].map((call) =>
      call.then(
        () => 'answered',
        () => 'failed',
      ),
    );
    const refused = await add(10).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(PendingCallsFullError);
    expect(refused).toMatchObject({
      data: { code: 'TOO_MANY_REQUESTS' },
      message: expect.stringMatching(/^3 calls are already waiting/),
    });
    await client.close();
    expect(await Promise.all(waiting)).toEqual(['failed', 'failed', 'failed']);
  });
});
