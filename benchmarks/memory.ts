/**
 * `pnpm bench memory`: the framework's own heap per connection and per push subscription,
 * after GC, with in-process sockets (so `ws`' buffers, which every WebSocket server pays,
 * are not counted: `pnpm bench fanout` gives whole-process RSS next to raw `ws`).
 */
import { createLogger, initStreampod, type StreamSession, type TransportSocket } from '@streampod/framework';
import { z } from 'zod';

interface Ctx {
  services: object;
  user: { id: string };
}

/** Heap in use once the process has settled for `waitMs` and two full GCs have run (needs --expose-gc). */
export async function settledHeap(waitMs: number): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with --expose-gc (pnpm bench memory does)');
  await new Promise((resolve) => setTimeout(resolve, waitMs));
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

export async function runMemoryBench(n = Number(process.env['BENCH_CONNECTIONS'] ?? 5_000)): Promise<boolean> {
  const sp = initStreampod.context<Ctx>().create();
  const watchers = new Set<StreamSession<Ctx, number>>();
  class FeedEndpoint extends sp.Endpoint {
    on = this.subscription({ output: z.int(), public: true }, (session) => {
      watchers.add(session);
      session.onClosed(() => void watchers.delete(session));
    });
  }
  const server = sp.server({ endpoints: { feed: new FeedEndpoint() }, services: {}, logger: createLogger('silent') });
  const socket: TransportSocket = { send: () => undefined, close: () => undefined, isOpen: true, bufferedBytes: 0 };
  const settle = () => settledHeap(50);
  const base = await settle();
  const connections = Array.from({ length: n }, () => server.acceptSocket(socket, { remoteAddress: '127.0.0.1' }));
  const connected = await settle();
  for (const c of connections) c.onText('{"id":1,"method":"subscription","params":{"path":"feed.on","input":{}}}');
  while (watchers.size < n) await new Promise((resolve) => setTimeout(resolve, 10));
  const subscribed = await settle();
  console.log(
    `memory: ${n} connections, heap after GC: ${((connected - base) / n / 1024).toFixed(2)} KB per connection, ` +
      `${((subscribed - connected) / n / 1024).toFixed(2)} KB per push subscription`,
  );
  for (const c of connections) c.onClose();
  await server.close();
  return true;
}

if (process.argv[1]?.endsWith('memory.ts')) process.exitCode = (await runMemoryBench()) ? 0 : 1;
