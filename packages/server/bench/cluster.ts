/**
 * One node against two nodes through Redis, in the same run: send throughput (stored and
 * acknowledged messages per second) into one room and spread over 100 rooms, delivery
 * latency (send to receipt on a reader's `chat.stream`, p50 and p99), and the Redis
 * publishes each message costs (`SPUBLISH` calls, from Redis' own command statistics).
 *
 * Every node is a real `apps/chat-server` process on a fresh PostgreSQL database; the two
 * nodes share a private Redis. Senders and readers are stock tRPC WebSocket clients in this
 * process, spread evenly over the nodes. On one machine the nodes, PostgreSQL, Redis and the
 * clients share the cores, so the figures compare topologies; they are not capacity.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import type { ChatStreamMessage } from '@streampod/protocol';
import { createRoom, send } from '../src/testing/chat-helpers.js';
import { createTestPostgres } from '../src/testing/postgres.js';
import { connectDevice, registerUser, type ServerAddress } from '../src/testing/presence-helpers.js';
import { Recorder, type StockWsClient } from '@streampod/framework/testing';
import { startTestRedis } from '../src/testing/redis-server.js';
import { median } from './stats.js';

const appDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../../apps/chat-server');
const MESSAGES = Number(process.env['BENCH_MESSAGES'] ?? 2_000);
const IN_FLIGHT = 32;
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 2);
const SECRET = 'bench-secret-bench-secret-bench-secret-0123456789';

interface Node extends ServerAddress {
  readonly child: ChildProcess;
}

async function startNode(env: Record<string, string>): Promise<Node> {
  const child = spawn(process.execPath, ['--conditions=@streampod/source', '--import', 'tsx', 'src/main.ts'], {
    cwd: appDir,
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      AUTH_SECRET: SECRET,
      DATA_DIR: await mkdtemp(join(tmpdir(), 'streampod-bench-')),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolveUrl, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const entry = JSON.parse(line) as { msg?: string; url?: string };
      if (entry.msg?.startsWith('chat server listening') === true && entry.url !== undefined) resolveUrl(entry.url);
    });
    child.once('exit', (code) => reject(new Error(`a bench node exited with ${code}`)));
  });
  return { child, url, wsUrl: `${url.replace(/^http/, 'ws')}/trpc` };
}

async function stopNode(node: Node): Promise<void> {
  const exited = once(node.child, 'exit');
  node.child.kill('SIGTERM');
  await exited;
}

interface Run {
  throughput: number;
  p50: number;
  p99: number;
  publishesPerMessage: number | undefined;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;

/** Sends MESSAGES messages over `rooms` rooms; each room has one reader per node. */
async function measure(nodes: Node[], rooms: number, redisUrl: string | undefined): Promise<Run> {
  const pick = <T>(list: T[], i: number) => list[i % list.length]!;
  const sender = await registerUser(nodes[0]!, 'sender');
  const readers = await Promise.all(nodes.map((node, i) => registerUser(node, `reader${i}`)));
  const senders: StockWsClient[] = await Promise.all(nodes.map((node) => connectDevice(node, sender.token)));
  const readerClients = await Promise.all(readers.map((r, i) => connectDevice(nodes[i]!, r.token)));
  const roomIds: number[] = [];
  for (let i = 0; i < rooms; i++) {
    roomIds.push((await createRoom(senders[0]!, { name: `bench ${i}`, memberIds: readers.map((r) => r.id) })).id);
  }
  const latencies: number[] = [];
  const received = new Recorder<true>();
  const started = new Recorder<true>();
  const subscriptions = readerClients.map((client) =>
    client.subscription('chat.stream', undefined, {
      onStarted: () => started.push(true),
      onData: (data) => {
        const { data: event } = data as { data: ChatStreamMessage };
        if (event.type !== 'message') return;
        latencies.push(performance.now() - Number(event.content));
        received.push(true);
      },
    }),
  );
  await started.until((all) => all.length === readerClients.length);
  const redis = redisUrl === undefined ? undefined : new Redis(redisUrl);
  const publishes = async () => {
    if (redis === undefined) return 0;
    const match = /cmdstat_spublish:calls=(\d+)/.exec(await redis.info('commandstats'));
    return Number(match?.[1] ?? 0);
  };
  const publishedBefore = await publishes();
  const begin = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async (_v, lane) => {
      while (next < MESSAGES) {
        const i = next++;
        await send(pick(senders, lane), pick(roomIds, i), String(performance.now()));
      }
    }),
  );
  const elapsed = performance.now() - begin;
  await received.until((all) => all.length === MESSAGES * readerClients.length);
  for (const subscription of subscriptions) subscription.unsubscribe();
  const publishesPerMessage = redis === undefined ? undefined : ((await publishes()) - publishedBefore) / MESSAGES;
  redis?.disconnect();
  await Promise.all([...senders, ...readerClients].map((c) => c.close()));
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    throughput: (MESSAGES * 1000) / elapsed,
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    publishesPerMessage,
  };
}

export async function runClusterBench(): Promise<boolean> {
  console.log(
    `cluster: ${MESSAGES} messages per run, ${IN_FLIGHT} sends in flight, one reader per node per room, ` +
      `${ROUNDS} rounds alternating one node and two (median)\n`,
  );
  await using redis = await startTestRedis();
  const results = new Map<string, Run[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const topology of round % 2 === 0 ? ['1 node', '2 nodes'] : ['2 nodes', '1 node']) {
      for (const rooms of [1, 100]) {
        await using pg = await createTestPostgres();
        const two = topology === '2 nodes';
        const env: Record<string, string> = two
          ? { DATABASE_URL: pg.url, REDIS_URL: redis.url }
          : { DATABASE_URL: pg.url };
        const nodes = two ? await Promise.all([startNode(env), startNode(env)]) : [await startNode(env)];
        try {
          const run = await measure(nodes, rooms, two ? redis.url : undefined);
          const key = `${topology}, ${rooms === 1 ? 'one room' : '100 rooms'}`;
          results.set(key, [...(results.get(key) ?? []), run]);
          process.stderr.write(`  ${key}: ${run.throughput.toFixed(0)} msg/s\n`);
        } finally {
          await Promise.all(nodes.map(stopNode));
        }
      }
    }
  }
  console.log('| topology | messages/s | p50 ms | p99 ms | Redis publishes per message |');
  console.log('|---|---|---|---|---|');
  const summary = new Map<string, Run>();
  for (const [key, runs] of results) {
    const run: Run = {
      throughput: median(runs.map((r) => r.throughput)),
      p50: median(runs.map((r) => r.p50)),
      p99: median(runs.map((r) => r.p99)),
      publishesPerMessage: runs[0]!.publishesPerMessage,
    };
    summary.set(key, run);
    console.log(
      `| ${key} | ${run.throughput.toFixed(0)} | ${run.p50.toFixed(1)} | ${run.p99.toFixed(1)} | ` +
        `${run.publishesPerMessage === undefined ? '–' : run.publishesPerMessage.toFixed(2)} |`,
    );
  }
  let ok = true;
  for (const rooms of ['one room', '100 rooms']) {
    const one = summary.get(`1 node, ${rooms}`)!;
    const two = summary.get(`2 nodes, ${rooms}`)!;
    console.log(
      `${rooms}: two nodes / one: throughput ×${(two.throughput / one.throughput).toFixed(2)}, ` +
        `p50 ×${(two.p50 / one.p50).toFixed(2)}, p99 ×${(two.p99 / one.p99).toFixed(2)}`,
    );
    if (two.publishesPerMessage !== 1) ok = false;
  }
  console.log(`Redis publishes per message: ${ok ? 'one (met)' : 'NOT one'}`);
  return ok;
}
