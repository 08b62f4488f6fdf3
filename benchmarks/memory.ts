/**
 * `pnpm bench memory`: the framework's own heap per connection and per push subscription,
 * after GC, with in-process sockets (so `ws`' buffers, which every WebSocket server pays,
 * are not counted: `pnpm bench fanout` gives whole-process RSS next to raw `ws`). Connections
 * are added in steps (1k, 5k, 10k by default): the slope between the steps is the cost of one
 * more connection, free of whatever the first connection made once.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createLogger, initStreampod, type StreamSession, type TransportSocket } from '@streampod/framework';
import { z } from 'zod';

interface Ctx {
  services: object;
  user: { id: string };
}

/** The connection counts memory is measured at (`BENCH_CONNECTIONS=1000,5000,10000`). */
export const MEMORY_STEPS = (process.env['BENCH_CONNECTIONS'] ?? '1000,5000,10000').split(',').map(Number);

function collector(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed !== undefined) return exposed;
  // Under a test runner that did not pass --expose-gc: V8 still makes `gc` for a new context.
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** Heap in use once the process has settled for `waitMs` and two full GCs have run. */
export async function settledHeap(waitMs: number): Promise<number> {
  const gc = collector();
  await new Promise((resolve) => setTimeout(resolve, waitMs));
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** Heap per item, in KB: the least-squares slope of heap over count. */
export function slopeKb(counts: readonly number[], heaps: readonly number[]): number {
  const n = counts.length;
  const mx = counts.reduce((a, b) => a + b, 0) / n;
  const my = heaps.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (counts[i]! - mx) * (heaps[i]! - my);
    den += (counts[i]! - mx) ** 2;
  }
  return num / den / 1024;
}

/** What memory costs per connection: average from empty to each step, the slope over the steps, and one subscription more. */
export interface MemoryFigures {
  readonly steps: readonly number[];
  /** KB per connection from an empty server to each step. */
  readonly perConnectionKb: readonly number[];
  /** KB per connection between the first and the last step (least squares). */
  readonly slopeKb: number;
  /**
   * KB per further subscription: the slope from one on each connection of the first step to
   * one on each connection of the last, free of what the first subscription made once (code,
   * tables), as the connection slope is.
   */
  readonly perSubscriptionKb: number;
}

/**
 * The figures from heaps measured after GC: empty (`base`) and at each step; the subscription's
 * as its caller measured it (a slope, as the connection's: see `subscriptionSlopeKb`).
 */
export function memoryFigures(m: {
  steps: readonly number[];
  base: number;
  heaps: readonly number[];
  perSubscriptionKb: number;
}): MemoryFigures {
  const { steps, base, heaps } = m;
  const last = heaps.at(-1)!;
  const n = steps.at(-1)!;
  return {
    steps,
    perConnectionKb: heaps.map((h, i) => (h - base) / steps[i]! / 1024),
    slopeKb: steps.length > 1 ? slopeKb(steps, heaps) : (last - base) / n / 1024,
    perSubscriptionKb: m.perSubscriptionKb,
  };
}

/** KB per subscription between one on each connection of the first step and one on each of the last. */
export function subscriptionSlopeKb(steps: readonly number[], heaps: readonly [first: number, last: number]): number {
  return (heaps[1] - heaps[0]) / (steps.at(-1)! - steps[0]!) / 1024;
}

export async function measureFrameworkMemory(steps: readonly number[] = MEMORY_STEPS): Promise<MemoryFigures> {
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
  const connections: ReturnType<typeof server.acceptSocket>[] = [];
  const heaps: number[] = [];
  for (const step of steps) {
    while (connections.length < step) connections.push(server.acceptSocket(socket, { remoteAddress: '127.0.0.1' }));
    heaps.push(await settle());
  }
  const subscribeUpTo = async (count: number) => {
    for (const c of connections.slice(watchers.size, count))
      c.onText('{"id":1,"method":"subscription","params":{"path":"feed.on","input":{}}}');
    while (watchers.size < count) await new Promise((resolve) => setTimeout(resolve, 10));
    return settle();
  };
  const subscribed = [await subscribeUpTo(steps[0]!), await subscribeUpTo(connections.length)] as const;
  for (const c of connections) c.onClose();
  await server.close();
  return memoryFigures({ steps, base, heaps, perSubscriptionKb: subscriptionSlopeKb(steps, subscribed) });
}

/** One line for the terminal: every step, the slope, the subscription. */
export function describeMemory(what: string, subscription: string, m: MemoryFigures): string {
  const steps = m.steps.map((n, i) => `${n}: ${m.perConnectionKb[i]!.toFixed(2)}`).join(', ');
  return (
    `${what}: ${m.slopeKb.toFixed(2)} KB per connection (slope over ${m.steps.join('…')}; average by count ${steps}), ` +
    `${m.perSubscriptionKb.toFixed(2)} KB per ${subscription}`
  );
}

export async function runMemoryBench(): Promise<boolean> {
  console.log(describeMemory('memory, framework, heap after GC', 'push subscription', await measureFrameworkMemory()));
  return true;
}
