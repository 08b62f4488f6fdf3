/**
 * Presence fan-out cost: server CPU time per status change, with 10 watchers per user, at
 * 1,000, 5,000 and 10,000 connected users. Everything the server does runs for real (the
 * tRPC WebSocket protocol handler, the router, the presence endpoint and manager, the
 * in-memory store and bus, frame serialization); only the kernel socket is replaced by a
 * counter, so the figure is the server's own work. The goal is a flat cost: 10k/1k ≤ 1.2.
 * Then a join storm (see `measureJoinStorm`), with the batch window and without.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '../src/db/index.js';
import { TokenService } from '../src/auth/tokens.js';
import { createChatApp } from '../src/app/chat-app.js';
import { createLogger, type TransportSocket } from '@streampod/framework';
import type { Membership } from '../src/presence/membership.js';

const WATCHERS_PER_USER = 10;
const SIZES = [1_000, 5_000, 10_000];
const CHANGES = Number(process.env['BENCH_CHANGES'] ?? 4_000);
const WARMUP = 1_000;

const everyoneShares: Membership = { sharedWith: (_v, ids) => Promise.resolve(new Set(ids)) };

/** A deterministic xorshift32 sequence, so every run changes the same users in the same order. */
function xorshift(seed: number) {
  let s = seed | 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
}

/**
 * The chat server over an in-memory database, never listening: each connection is fed its
 * frames through `acceptSocket`. `online(n)` resolves once n users in all have come online.
 */
async function presenceServer(batchMs: number) {
  const database = await openDatabase({ dataDir: 'memory' });
  const log = createLogger({ level: 'silent' });
  const tokens = new TokenService({ secret: new Uint8Array(32) });
  let count = 0;
  let created = 0;
  let rows = Promise.resolve();
  let want = Infinity;
  let wake: (() => void) | undefined;
  const { server, close } = await createChatApp({
    nodeId: 'bench',
    db: database.db,
    log,
    tokens,
    membership: everyoneShares,
    presenceBatchMs: batchMs,
    rateLimits: false,
    // Counted, so a run starts once the users it needs are online.
    hooks: (hooks) => ({
      ...hooks,
      onConnectionOpen: async (connection) => {
        await hooks.onConnectionOpen?.(connection);
        if (++count >= want) wake?.();
      },
    }),
  });
  return {
    server,
    /** A token for user `id`, whose row (and every row below it) is made first: a token needs its user. */
    token: async (id: number) => {
      // One after the other (tokens are asked for at once too): a fresh database numbers its users from 1, in order.
      rows = rows.then(async () => {
        if (id <= created) return;
        const names = Array.from({ length: id - created }, (_, i) => `u${created + i + 1}`);
        await database.db
          .insertInto('users')
          .values(names.map((name) => ({ username: name, usernameKey: name, displayName: name, passwordHash: '-' })))
          .execute();
        created = id;
      });
      await rows;
      return tokens.issue({ id, username: `u${id}` });
    },
    /** A connection on `socket` that signs in with `token`. */
    signIn: (token: string, socket: TransportSocket) => {
      const rpc = server.acceptSocket(socket, { remoteAddress: '127.0.0.1', connectionParams: true });
      rpc.onText(JSON.stringify({ method: 'connectionParams', data: { token } }));
      return rpc;
    },
    online: (n: number) =>
      count >= n ? Promise.resolve() : new Promise<void>((resolve) => ((want = n), (wake = resolve))),
    close: async () => {
      await close();
      await database.close();
    },
  };
}

const watch = (userIds: number[]) =>
  JSON.stringify({
    id: 1,
    method: 'subscription',
    params: { path: 'presence.subscribeToPresence', input: { json: { userIds } } },
  });

/** One size, measured in this process (the runner gives each size a fresh process). */
export async function measure(users: number) {
  const { token, signIn, online, close } = await presenceServer(0);

  let frames = 0;
  let waitFor = 0;
  let wake: (() => void) | undefined;
  const socket: TransportSocket = {
    send() {
      frames++;
      if (wake !== undefined && frames >= waitFor) {
        const w = wake;
        wake = undefined;
        w();
      }
    },
    close: () => undefined,
    isOpen: true,
    bufferedBytes: 0,
  };
  const framesReach = (n: number) =>
    frames >= n ? Promise.resolve() : new Promise<void>((resolve) => ((waitFor = n), (wake = resolve)));

  const rpcs: { onText(text: string): void; onClose(): void }[] = [];
  for (let id = 1; id <= users; id++) rpcs.push(signIn(await token(id), socket));
  await online(users);
  // Each user watches the next ten, so each user has exactly ten watchers.
  for (let i = 0; i < users; i++) {
    rpcs[i]!.onText(watch(Array.from({ length: WATCHERS_PER_USER }, (_, k) => ((i + k + 1) % users) + 1)));
  }
  await framesReach(users * 2); // `started` + the snapshot, per subscriber

  const next = xorshift(users);
  const statuses = ['online', 'busy', 'away'] as const;
  // Every change moves the user to another status, so every change reaches its watchers.
  const current = new Uint8Array(users);
  let requestId = 10;
  const change = async (n: number) => {
    for (let k = 0; k < n; k++) {
      const user = next() % users;
      current[user] = (current[user]! + 1) % 3;
      const before = frames;
      rpcs[user]!.onText(
        JSON.stringify({
          id: ++requestId,
          method: 'mutation',
          params: { path: 'presence.setStatus', input: { json: { status: statuses[current[user]] } } },
        }),
      );
      // The mutation's answer, then one batch to each of the ten watchers.
      await framesReach(before + 1 + WATCHERS_PER_USER);
    }
  };
  await change(WARMUP);
  (globalThis as { gc?: () => void }).gc?.();
  const heap = process.memoryUsage().heapUsed;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await change(CHANGES);
  const used = process.cpuUsage(cpu);
  const wall = performance.now() - started;

  for (const r of rpcs) r.onClose();
  await close();
  return {
    users,
    cpuUsPerChange: (used.user + used.system) / CHANGES,
    wallUsPerChange: (wall * 1000) / CHANGES,
    heapMb: heap / 2 ** 20,
  };
}

const STORM_JOINERS = 1_000;
const STORM_WATCHERS = 100;

/**
 * A join storm: 1,000 users come online within about a second while 100 others each watch all of them.
 * Every watcher must see every joiner online; what it costs is counted: frames to each
 * watcher, and server CPU per joiner. With the batch window, a watcher gets a few diffs
 * holding many joiners each, not one frame per joiner.
 */
export async function measureJoinStorm(batchMs: number) {
  const { token, signIn, online, close } = await presenceServer(batchMs);
  let frames = 0;
  let updates = 0;
  let want = Infinity;
  let wake: (() => void) | undefined;
  const watcherSocket: TransportSocket = {
    send(frame) {
      const text = typeof frame === 'string' ? frame : Buffer.from(frame).toString();
      if (!text.includes('"updates"')) return;
      frames++;
      for (let at = text.indexOf('"userId"'); at !== -1; at = text.indexOf('"userId"', at + 8)) updates++;
      if (updates >= want) wake?.();
    },
    close: () => undefined,
    isOpen: true,
    bufferedBytes: 0,
  };
  const updatesReach = (n: number) =>
    updates >= n ? Promise.resolve() : new Promise<void>((resolve) => ((want = n), (wake = resolve)));
  const nowhere: TransportSocket = { send: () => undefined, close: () => undefined, isOpen: true, bufferedBytes: 0 };

  const joiners = Array.from({ length: STORM_JOINERS }, (_, i) => STORM_WATCHERS + 1 + i);
  const rpcs: { onText(text: string): void; onClose(): void }[] = [];
  for (let id = 1; id <= STORM_WATCHERS; id++) rpcs.push(signIn(await token(id), watcherSocket));
  await online(STORM_WATCHERS);
  for (const rpc of rpcs) rpc.onText(watch(joiners));
  await updatesReach(STORM_WATCHERS * STORM_JOINERS); // every watcher's snapshot: all offline
  const tokens = await Promise.all(joiners.map(token));
  frames = 0;
  updates = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  // A storm over about a second: one joiner per millisecond, not all in one tick (which any timer batches).
  for (const t of tokens) {
    rpcs.push(signIn(t, nowhere));
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await updatesReach(STORM_WATCHERS * STORM_JOINERS);
  const used = process.cpuUsage(cpu);
  const wallMs = performance.now() - started;
  for (const r of rpcs) r.onClose();
  await close();
  return {
    batchMs,
    framesPerWatcher: frames / STORM_WATCHERS,
    cpuUsPerJoiner: (used.user + used.system) / STORM_JOINERS,
    wallMs,
  };
}

interface Result {
  users: number;
  cpuUsPerChange: number;
  wallUsPerChange: number;
  heapMb: number;
}

/** Runs one size in a fresh process: no JIT warmth or heap carried over from another size. */
function measureInChild<T = Result>(...args: (string | number)[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...args.map(String)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out) as T) : reject(new Error(`presence bench child exited with ${code}`)),
    );
  });
}

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  return Number.isInteger(mid) ? (sorted[mid - 1]! + sorted[mid]!) / 2 : sorted[Math.floor(mid)]!;
};

export async function runPresenceBench(): Promise<boolean> {
  const rounds = 2;
  console.log(
    `presence: CPU per status change, ${WATCHERS_PER_USER} watchers per user, ${CHANGES} changes per run, ` +
      `each size in a fresh process, ${rounds} rounds in alternating order (median)\n`,
  );
  const runs = new Map<number, Result[]>(SIZES.map((n) => [n, []]));
  for (let round = 0; round < rounds; round++) {
    for (const users of round % 2 === 0 ? SIZES : [...SIZES].reverse())
      runs.get(users)!.push(await measureInChild(users));
  }
  const results = SIZES.map((users) => {
    const r = runs.get(users)!;
    return {
      users,
      cpu: median(r.map((x) => x.cpuUsPerChange)),
      wall: median(r.map((x) => x.wallUsPerChange)),
      heap: median(r.map((x) => x.heapMb)),
      spread: r.map((x) => x.cpuUsPerChange.toFixed(0)).join('/'),
    };
  });
  for (const r of results) {
    console.log(
      `${String(r.users).padStart(6)} users  ${r.cpu.toFixed(1).padStart(7)} µs CPU/change (runs ${r.spread})  ` +
        `${r.wall.toFixed(1).padStart(7)} µs wall/change  heap ${r.heap.toFixed(0)} MiB`,
    );
  }
  const first = results[0]!;
  const last = results.at(-1)!;
  const ratio = last.cpu / first.cpu;
  const ok = ratio <= 1.2;
  console.log(
    `\nratio ${last.users / 1000}k/${first.users / 1000}k: ${ratio.toFixed(2)} (goal ≤ 1.20, the issue's 20 %: ${ok ? 'met' : 'NOT met'})`,
  );

  console.log(
    `\njoin storm: ${STORM_JOINERS} users come online within a second, ${STORM_WATCHERS} users watching all of them ` +
      `(fresh process each; the batch window against none)`,
  );
  type Storm = Awaited<ReturnType<typeof measureJoinStorm>>;
  const storms: Storm[] = [];
  for (const batchMs of [50, 0]) {
    const storm = await measureInChild<Storm>('storm', batchMs);
    storms.push(storm);
    console.log(
      `  PRESENCE_BATCH_MS=${String(batchMs).padEnd(3)} ${storm.framesPerWatcher.toFixed(1).padStart(7)} frames per watcher  ` +
        `${storm.cpuUsPerJoiner.toFixed(0).padStart(6)} µs CPU per joiner  all seen in ${storm.wallMs.toFixed(0)} ms`,
    );
  }
  const [batched, unbatched] = storms as [Storm, Storm];
  const batchedOk = batched.framesPerWatcher <= STORM_JOINERS / 10;
  console.log(
    `  batched: ×${(batched.framesPerWatcher / unbatched.framesPerWatcher).toFixed(3)} the frames, ` +
      `×${(batched.cpuUsPerJoiner / unbatched.cpuUsPerJoiner).toFixed(2)} the CPU of one frame per joiner per watcher ` +
      `(goal: batched diffs, ≤ 1 frame per 10 joiners: ${batchedOk ? 'met' : 'NOT met'})`,
  );
  return ok && batchedOk;
}

// Child mode: `presence.ts <users>` measures one size, `presence.ts storm <batchMs>` a join
// storm, and prints the result as JSON.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [what, arg] = process.argv.slice(2);
  process.stdout.write(
    JSON.stringify(what === 'storm' ? await measureJoinStorm(Number(arg)) : await measure(Number(what))),
  );
  process.exit(0);
}
