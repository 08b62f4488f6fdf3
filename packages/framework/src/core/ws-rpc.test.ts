import { SuperJSON } from 'superjson';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../host/logger.js';
import { CounterEndpoint } from '../testing/probe-app.js';
import { Recorder } from '../testing/recorder.js';
import { Connection, type TransportSocket } from './connection.js';
import { OutgoingEvent } from './outgoing-event.js';
import { describeEndpoints } from './procedures.js';
import { compileRouter, createTrpc } from './router.js';
import { WsRpc } from './ws-rpc.js';

/** The router of `counter` alone, with `transformer` (superjson by default). */
function counterRouter(counter: CounterEndpoint, transformer: Parameters<typeof createTrpc>[0] = new SuperJSON()) {
  return compileRouter({
    trpc: createTrpc(transformer),
    procedures: describeEndpoints({ counter }),
    runtime: { log: createLogger('silent'), services: { greeting: 'hi' } },
  });
}

/** A socket whose unsent backlog the test sets: the policy, not the network, is the subject. */
function backloggedSocket() {
  const frames = new Recorder<string>();
  const socket: TransportSocket & { bufferedBytes: number } = {
    send: (frame) => void frames.push(typeof frame === 'string' ? frame : Buffer.from(frame).toString('utf8')),
    close: () => undefined,
    isOpen: true,
    bufferedBytes: 0,
  };
  return { socket, frames };
}

describe('a slow reader', () => {
  it('loses droppable events above dropAboveBytes, never the others', async () => {
    const counter = new CounterEndpoint();
    const router = counterRouter(counter);
    const { socket, frames } = backloggedSocket();
    const rpc = new WsRpc(
      { router, authenticate: () => Promise.resolve(null), limits: { dropAboveBytes: 1000 } },
      new Connection('ws', '127.0.0.1', socket),
      false,
    );
    rpc.handleFrame(JSON.stringify({ id: 1, method: 'subscription', params: { path: 'counter.watch' } }));
    await frames.until(() => frames.entries.length === 2); // started, watching
    const [watcher] = counter.watchers;
    if (watcher === undefined) throw new Error('no watcher');

    socket.bufferedBytes = 1001;
    watcher.send(new OutgoingEvent('typing', undefined, true));
    watcher.send(new OutgoingEvent('message'));
    socket.bufferedBytes = 1000;
    watcher.send(new OutgoingEvent('typing again', undefined, true));
    expect(
      frames.entries.slice(2).map((f) => (JSON.parse(f) as { result: { data: { json: string } } }).result.data.json),
    ).toEqual(['message', 'typing again']);
    expect(rpc.droppedEvents).toBe(1);
    await rpc.close();
  });
});

describe('one event to many subscribers', () => {
  it('is serialized once and encoded once: every socket is handed the same bytes', async () => {
    const counter = new CounterEndpoint();
    let serializations = 0;
    const superjson = new SuperJSON();
    const counting = {
      serialize: (value: unknown) => {
        serializations++;
        return superjson.serialize(value);
      },
      deserialize: (value: unknown) => superjson.deserialize(value as Parameters<typeof superjson.deserialize>[0]),
    };
    const router = counterRouter(counter, counting);
    const sent: (string | Uint8Array)[] = [];
    const host = { router, authenticate: () => Promise.resolve(null) };
    const rpcs = Array.from({ length: 100 }, (_, i) => {
      const socket: TransportSocket = {
        send: (frame) => void sent.push(frame),
        close: () => undefined,
        isOpen: true,
        bufferedBytes: 0,
      };
      const rpc = new WsRpc(host, new Connection('ws', '127.0.0.1', socket), false);
      // Stock clients number their requests from 1; a few use other ids.
      rpc.handleFrame(
        JSON.stringify({ id: i < 90 ? 1 : 7, method: 'subscription', params: { path: 'counter.watch' } }),
      );
      return rpc;
    });
    await counter.events.until((all) => all.filter((e) => e === 'watch:opened').length === 100);
    await new Promise((resolve) => setImmediate(resolve)); // the `started` frames
    sent.length = 0;
    serializations = 0;

    const event = new OutgoingEvent({ text: 'to everyone', at: new Date(0) });
    for (const watcher of counter.watchers) watcher.send(event);

    expect(sent).toHaveLength(100);
    expect(serializations).toBe(1);
    // Two subscription ids, so two distinct frames, each one object handed to every socket.
    expect(new Set(sent).size).toBe(2);
    expect(sent.every((frame) => frame instanceof Uint8Array)).toBe(true);
    expect(JSON.parse(Buffer.from(sent[0] as Uint8Array).toString('utf8'))).toEqual({
      id: 1,
      result: {
        type: 'data',
        data: {
          json: { text: 'to everyone', at: '1970-01-01T00:00:00.000Z' },
          meta: { values: { at: ['Date'] }, v: 1 },
        },
      },
    });
    await Promise.all(rpcs.map((rpc) => rpc.close()));
  });
});

describe('request ids', () => {
  it('come back as sent on every frame of a subscription: small, large, string, JSON-RPC or not', async () => {
    const counter = new CounterEndpoint();
    const router = counterRouter(counter);
    const host = { router, authenticate: () => Promise.resolve(null) };
    // Small numeric ids share what is made per id; the others are made per subscription.
    const requests = [
      { id: 1 },
      { id: 1, jsonrpc: '2.0' },
      { id: 5_000 },
      { id: -3 },
      { id: 2.5 },
      { id: 's-1', jsonrpc: '2.0' },
      { id: '1' },
    ];
    const sockets = requests.map((request) => {
      const { socket, frames } = backloggedSocket();
      const rpc = new WsRpc(host, new Connection('ws', '127.0.0.1', socket), false);
      rpc.handleFrame(JSON.stringify({ ...request, method: 'subscription', params: { path: 'counter.watch' } }));
      return { rpc, frames };
    });
    await counter.events.until((all) => all.filter((e) => e === 'watch:opened').length === requests.length);
    for (const watcher of counter.watchers) watcher.send(new OutgoingEvent('hello'));
    sockets.forEach(({ rpc }, i) => rpc.handleFrame(JSON.stringify({ ...requests[i], method: 'subscription.stop' })));
    // started, watching, hello, stopped
    await Promise.all(sockets.map(({ frames }) => frames.until((all) => all.length === 4)));
    const seen = sockets.map(({ frames }) =>
      frames.entries.map((f) => {
        const { id, jsonrpc, result } = JSON.parse(f) as { id: unknown; jsonrpc?: string; result: { type: string } };
        return { id, jsonrpc, type: result.type };
      }),
    );
    expect(seen).toEqual(
      requests.map(({ id, jsonrpc }) => ['started', 'data', 'data', 'stopped'].map((type) => ({ id, jsonrpc, type }))),
    );
    await Promise.all(sockets.map(({ rpc }) => rpc.close()));
  });
});
