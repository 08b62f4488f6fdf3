/**
 * `pnpm bench clients`: wall-clock fan-out to stock receivers. Each server is its own process
 * pinned to core 0; this process, pinned to core 1, holds R stock clients (`@trpc/client`'s
 * wsLink with superjson, or `socket.io-client`) that decode every message as an app would.
 * One room, M messages published as fast as the server takes them: deliveries per second
 * from the first publish to the last receipt, and this process' CPU per delivery (what a
 * frame costs a client to decode, which on one machine bounds the throughput).
 */
import { spawnSync } from 'node:child_process';
import { createTRPCUntypedClient, createWSClient, wsLink } from '@trpc/client';
import { io } from 'socket.io-client';
import { SuperJSON } from 'superjson';
import { WebSocket } from 'ws';
import { interleavedRounds, median, ServerProcess, subjects, type Subject } from './run.js';

const RECEIVERS = Number(process.env['BENCH_RECEIVERS'] ?? 300);
const MESSAGES = Number(process.env['BENCH_MESSAGES'] ?? 200);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const pinned = spawnSync('taskset', ['-V']).status === 0;

interface Receivers {
  /** Resolves once `total` messages have arrived in all. */
  until(total: number): Promise<void>;
  close(): void;
}

/** Counts messages; `until(total)` wakes once that many came. */
function counter() {
  let count = 0;
  let want = Infinity;
  let wake: (() => void) | undefined;
  return {
    received() {
      if (++count >= want) wake?.();
    },
    until: (total: number) =>
      count >= total ? Promise.resolve() : new Promise<void>((resolve) => ((want = total), (wake = resolve))),
  };
}

async function socketIoReceivers(port: number, tokens: readonly string[]): Promise<Receivers> {
  const count = counter();
  const sockets = await Promise.all(
    tokens.map(async () => {
      const socket = io(`http://127.0.0.1:${port}`, { transports: ['websocket'], forceNew: true, reconnection: false });
      socket.on('message', (message: { content: string }) => {
        if (typeof message.content === 'string') count.received();
      });
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      });
      return socket;
    }),
  );
  return { until: count.until, close: () => sockets.forEach((s) => s.disconnect()) };
}

/** A message's content, as it comes: plain, or inside a tracked event's `data` (chat.stream). */
const contentOf = (value: unknown): unknown =>
  (value as { content?: unknown }).content ?? (value as { data?: { content?: unknown } }).data?.content;

async function trpcReceivers(port: number, tokens: readonly string[], path: string): Promise<Receivers> {
  const count = counter();
  const clients = await Promise.all(
    tokens.map(async (token) => {
      const ws = createWSClient({
        url: `ws://127.0.0.1:${port}/trpc`,
        WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
        ...(token === '' ? {} : { connectionParams: { token } }),
      });
      const client = createTRPCUntypedClient({ links: [wsLink({ client: ws, transformer: SuperJSON })] });
      await new Promise<void>((resolve, reject) => {
        client.subscription(path, undefined, {
          onStarted: () => resolve(),
          onData: (message) => {
            if (typeof contentOf(message) === 'string') count.received();
          },
          onError: reject,
        });
      });
      return ws;
    }),
  );
  return { until: count.until, close: () => clients.forEach((ws) => void ws.close()) };
}

/** Receivers per subject: one per token (`''` where the server issues none). */
const receiversFor: Record<string, (port: number, tokens: readonly string[]) => Promise<Receivers>> = {
  'Socket.IO 4 room': socketIoReceivers,
  'plain tRPC v11 subscription': (port, tokens) => trpcReceivers(port, tokens, 'onMessage'),
  'streampod push subscription': (port, tokens) => trpcReceivers(port, tokens, 'feed.onMessage'),
  'streampod chat.stream (+ storing)': (port, tokens) => trpcReceivers(port, tokens, 'chat.stream'),
};

interface ClientsSample {
  deliveriesPerSecond: number;
  clientCpuUsPerDelivery: number;
}

export async function measureClients(subject: Subject, n = RECEIVERS, messages = MESSAGES): Promise<ClientsSample> {
  const { server, port, tokens } = await ServerProcess.start(subject, n);
  try {
    const receivers = await receiversFor[subject.name]!(port, tokens.length > 0 ? tokens : Array<string>(n).fill(''));
    let expected = 0;
    await server.publish(10); // warm-up
    await receivers.until((expected += 10 * n));
    const cpu = process.cpuUsage();
    const started = performance.now();
    await server.publish(messages);
    await receivers.until((expected += messages * n));
    const elapsed = performance.now() - started;
    const used = process.cpuUsage(cpu);
    receivers.close();
    return {
      deliveriesPerSecond: (messages * n * 1000) / elapsed,
      clientCpuUsPerDelivery: (used.user + used.system) / (messages * n),
    };
  } finally {
    await server.stop();
  }
}

export async function runClientsBench(): Promise<boolean> {
  if (pinned) spawnSync('taskset', ['-cp', '1', String(process.pid)]);
  const chosen = subjects.filter((s) => s.name in receiversFor);
  console.log(
    `clients: ${RECEIVERS} stock receivers (socket.io-client, @trpc/client wsLink + superjson) × ${MESSAGES} messages, ` +
      `one room, ${ROUNDS} rounds interleaved (median); deliveries/s wall-clock and the receivers' CPU per delivery\n`,
  );
  const samples = await interleavedRounds(chosen, { rounds: ROUNDS, label: '' }, measureClients);
  const base = samples.get(chosen[0]!)!;
  for (const subject of chosen) {
    const runs = samples.get(subject)!;
    const ratio = runs.map((s, i) => s.deliveriesPerSecond / base[i]!.deliveriesPerSecond);
    console.log(
      `  ${subject.name.padEnd(30)} ${median(runs.map((s) => s.deliveriesPerSecond))
        .toFixed(0)
        .padStart(7)} deliveries/s ` +
        `(×${median(ratio).toFixed(2)} ${chosen[0]!.name}, range ${Math.min(...ratio).toFixed(2)}–${Math.max(...ratio).toFixed(2)})  ` +
        `receivers' CPU ${median(runs.map((s) => s.clientCpuUsPerDelivery)).toFixed(2)} µs/delivery`,
    );
  }
  return true;
}
