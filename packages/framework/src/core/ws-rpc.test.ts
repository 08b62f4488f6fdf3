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

/** A socket whose unsent backlog the test sets: the policy, not the network, is the subject. */
function backloggedSocket() {
  const frames = new Recorder<string>();
  const socket: TransportSocket & { bufferedBytes: number } = {
    send: (frame) => void frames.push(frame),
    close: () => undefined,
    isOpen: true,
    bufferedBytes: 0,
  };
  return { socket, frames };
}

describe('a slow reader', () => {
  it('loses droppable events above dropAboveBytes, never the others', async () => {
    const counter = new CounterEndpoint();
    const router = compileRouter({
      trpc: createTrpc(new SuperJSON()),
      procedures: describeEndpoints({ counter }),
      runtime: { log: createLogger('silent'), services: { greeting: 'hi' } },
    });
    const { socket, frames } = backloggedSocket();
    const rpc = new WsRpc({
      router,
      connection: new Connection('ws', '127.0.0.1', socket),
      expectConnectionParams: false,
      authenticate: () => Promise.resolve(null),
      limits: { dropAboveBytes: 1000 },
    });
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
