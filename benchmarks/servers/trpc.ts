// Plain tRPC v11 over `ws`, as its docs show: an async generator subscription per client,
// fed by an event emitter, superjson.
import { EventEmitter, on } from 'node:events';
import { initTRPC } from '@trpc/server';
import { applyWSSHandler } from '@trpc/server/adapters/ws';
import { SuperJSON } from 'superjson';
import { WebSocketServer } from 'ws';
import { messageOf, serve } from './common.js';

const t = initTRPC.create({ transformer: SuperJSON });
const events = new EventEmitter();
events.setMaxListeners(0);
const router = t.router({
  onMessage: t.procedure.subscription(async function* ({ signal }) {
    for await (const [message] of on(events, 'message', { signal })) yield message as ReturnType<typeof messageOf>;
  }),
});
const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false });
applyWSSHandler({ wss, router, keepAlive: { enabled: false } });
wss.on('listening', () => {
  const { port } = wss.address() as { port: number };
  serve(port, (i) => void events.emit('message', messageOf(i)));
});
