/**
 * `pnpm bench fanout`: server CPU per delivery of one room's messages to N subscribers,
 * streampod (a push subscription, and the chat server's `chat.stream`) against raw `ws`
 * (frame built once, and stringified per socket), Socket.IO 4 and plain tRPC v11, and
 * resident memory per subscribed connection. `pnpm bench latency`: delivery latency at a
 * fixed offered load, one room with and without a stalled subscriber, then 1,000 rooms of
 * 10 with a personal stream each. `pnpm bench nodes`: one node against two through Redis.
 *
 * Each server is its own process pinned to core 0 (`taskset`); this process, pinned to core
 * 1, is the load generator: raw sockets that count frames without decoding them. CPU comes
 * from /proc/<pid>/stat, so the figure is the server's own work, whatever the client costs.
 * Baselines run in the same run, interleaved over rounds; ratios are taken per round, then
 * the median.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { WebSocket } from 'ws';
import { clock, resyncClock } from './servers/common.js';
import { machine, writeReport, type SizeResult, type SubjectResult } from './report.js';

const here = dirname(fileURLToPath(import.meta.url));
const SIZES = (process.env['BENCH_SUBSCRIBERS'] ?? '100,1000,2000,5000').split(',').map(Number);
const MESSAGES = Number(process.env['BENCH_MESSAGES'] ?? 200);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const TICK_US = 1e6 / Number(spawnSync('getconf', ['CLK_TCK']).stdout.toString().trim() || 100);
const pinned = spawnSync('taskset', ['-V']).status === 0;
/** `BENCH_ONLY=chat,socket`: only the subjects whose names hold one of these. */
const ONLY = process.env['BENCH_ONLY']?.toLowerCase().split(',');
const named = (s: Subject) => ONLY === undefined || ONLY.some((o) => s.name.toLowerCase().includes(o));

export interface Subject {
  readonly name: string;
  readonly file: string;
  /** Arguments for the server; `n` is the number of subscribers. */
  readonly args?: (n: number) => string[];
  /** The WebSocket path (and query). */
  readonly path?: string;
  /** Frames a socket sends once open; `token` is its own, when the server issued tokens. */
  readonly hello?: (token: string | undefined) => string[];
  /** The server prints one token per subscriber (`tokens a,b,…`) for them to sign in with. */
  readonly issuesTokens?: boolean;
  /** RSS per connection means nothing here (an embedded database grows beside the connections). */
  readonly noRss?: boolean;
  /** A frame holding this marks its socket subscribed; by default, any first frame does. */
  readonly ready?: string;
}

const trpcSubscription = (path: string) => `{"id":1,"method":"subscription","params":{"path":"${path}","input":{}}}`;

export const subjects: Subject[] = [
  { name: 'raw ws, frame built once', file: 'servers/raw-ws.ts' },
  { name: 'raw ws, stringify per socket', file: 'servers/raw-ws.ts', args: () => ['--stringify'] },
  {
    name: 'Socket.IO 4 room',
    file: 'servers/socketio.ts',
    path: '/socket.io/?EIO=4&transport=websocket',
    hello: () => ['40'],
    ready: '40{"sid"',
  },
  {
    name: 'plain tRPC v11 subscription',
    file: 'servers/trpc.ts',
    path: '/trpc',
    hello: () => [trpcSubscription('onMessage')],
  },
  {
    name: 'streampod push subscription',
    file: 'servers/streampod.ts',
    path: '/trpc',
    hello: () => [trpcSubscription('feed.onMessage')],
  },
  {
    name: 'streampod chat.stream (+ storing)',
    file: 'servers/chat.ts',
    args: (n) => ['--users', String(n)],
    issuesTokens: true,
    noRss: true,
    path: '/trpc?connectionParams=1',
    hello: (token) => [`{"method":"connectionParams","data":{"token":"${token}"}}`, trpcSubscription('chat.stream')],
    ready: '"started"',
  },
];

/** What every server's message frame holds (the message content), whatever its framing. */
const MESSAGE_MARK = 'quick brown fox';

export class ServerProcess {
  readonly #lines: string[] = [];
  readonly #waiters: (() => void)[] = [];
  private constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      this.#lines.push(line);
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  static async start(
    subject: Subject,
    n: number,
    extra: readonly string[] = [],
  ): Promise<{ server: ServerProcess; port: number; tokens: string[] }> {
    // The framework as it ships (built by `pnpm bench`): run from source, tsx's keep-names
    // helper adds a property to every function it creates, which costs CPU and heap per closure.
    const source = process.env['BENCH_FROM_SOURCE'] === '1' ? ['--conditions=@streampod/source'] : [];
    // `BENCH_CPU_PROF=<dir>`: every server writes a V8 CPU profile there when it exits.
    const profile = process.env['BENCH_CPU_PROF'];
    const node = [
      process.execPath,
      ...source,
      ...(profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profile}`]),
      '--import',
      'tsx',
      join(here, subject.file),
      ...(subject.args?.(n) ?? []),
      ...extra,
    ];
    const child = spawn(pinned ? 'taskset' : node[0]!, pinned ? ['-c', '0', ...node] : node.slice(1), {
      cwd: here,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const server = new ServerProcess(child);
    const line = await server.next((l) => l.startsWith('port '));
    const tokens =
      subject.issuesTokens === true ? (await server.next((l) => l.startsWith('tokens '))).slice(7).split(',') : [];
    return { server, port: Number(line.slice(5)), tokens };
  }

  async next(test: (line: string) => boolean): Promise<string> {
    for (;;) {
      const i = this.#lines.findIndex(test);
      if (i !== -1) return this.#lines.splice(i, 1)[0]!;
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /** Publishes `count` messages, `rate` per second on a fixed schedule. */
  async publishTimed(rate: number, count: number): Promise<void> {
    this.child.stdin!.write(`timed ${rate} ${count}\n`);
    await this.next((l) => l === 'published');
  }

  async publish(count: number): Promise<void> {
    this.child.stdin!.write(`publish ${count}\n`);
    await this.next((l) => l === 'published');
  }

  /** User + system CPU so far, in µs. */
  cpuUs(): number {
    const fields = readFileSync(`/proc/${this.child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_US;
  }

  rssKb(): number {
    const match = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${this.child.pid}/status`, 'utf8'));
    return Number(match?.[1] ?? 0);
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      if (process.env['BENCH_CPU_PROF'] === undefined) this.child.kill('SIGKILL');
      else {
        this.child.stdin!.end();
        setTimeout(() => this.child.kill('SIGKILL'), 30_000).unref();
      }
    });
  }
}

/**
 * One socket per token (`''` where the server issues none), each subscribed as `subject`
 * says, counting the frames that carry a message
 * (a byte search, no decoding); `until(total)` resolves once that many have arrived in all.
 * Given several ports (nodes), the sockets are dealt out over them in turn.
 */
async function connect(port: number | readonly number[], subject: Subject, tokens: string[]) {
  const ports = typeof port === 'number' ? [port] : port;
  const n = tokens.length;
  /** In a timed run, each delivery's latency from when its message was due (ms). */
  let latencies: number[] | undefined;
  let frames = 0;
  let messages = 0;
  let target = Infinity;
  let reached: (() => void) | undefined;
  const sockets: WebSocket[] = [];
  const subscribed: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const socket = new WebSocket(`ws://127.0.0.1:${ports[i % ports.length]}${subject.path ?? '/'}`, {
      perMessageDeflate: false,
    });
    let ready: (() => void) | undefined;
    socket.on('message', (data: Buffer) => {
      frames++;
      if (ready !== undefined && (subject.ready === undefined || data.includes(subject.ready))) {
        ready();
        ready = undefined;
      }
      if (!data.includes(MESSAGE_MARK)) return;
      if (latencies !== undefined) {
        const at = data.lastIndexOf(64); // '@', then when the message was due
        latencies.push(clock() - parseFloat(data.toString('latin1', at + 1, at + 18)));
      }
      if (++messages >= target && reached !== undefined) {
        const wake = reached;
        reached = undefined;
        wake();
      }
    });
    subscribed.push(
      new Promise((resolve, reject) => {
        ready = resolve;
        socket.once('open', () => {
          for (const frame of subject.hello?.(tokens[i]) ?? []) socket.send(frame);
        });
        socket.once('error', reject);
      }),
    );
    sockets.push(socket);
    // A few at a time: a burst of thousands of handshakes overflows the listen backlog.
    if (i % 100 === 99) await Promise.all(subscribed.slice(-100));
  }
  await Promise.all(subscribed);
  const until = (total: number) =>
    messages >= total ? Promise.resolve() : new Promise<void>((resolve) => ((target = total), (reached = resolve)));
  /** Resolves once no frame has come for `quietMs` (presence news of everyone joining, say). */
  const settled = async (quietMs = 300) => {
    for (let seen = -1; seen !== frames;) {
      seen = frames;
      await new Promise((resolve) => setTimeout(resolve, quietMs));
    }
  };
  return {
    until,
    settled,
    /** Latencies of what arrives from now on. */
    record: () => (latencies = []),
    /** Stops reading one socket, as a stalled client would: the server's queue to it grows. */
    stall: () => sockets.at(-1)!.pause(),
    close: () => sockets.forEach((s) => s.terminate()),
  };
}

interface Sample {
  /** Every node's CPU together, per delivery. */
  cpuUsPerDelivery: number;
  /** Every node's RSS growth while the subscribers connected, per subscriber. */
  rssKbPerConnection: number;
  /** Redis' CPU per message (0 on one node, which uses none). */
  redisUsPerMessage: number;
}

/**
 * One server process (or two sharing `redis`, the subscribers dealt out over both), `n`
 * subscribers, `messages` messages published on the first: CPU per delivery, RSS per
 * connection, Redis' CPU per message.
 */
export async function measure(
  subject: Subject,
  run: { n: number; messages?: number; redis?: Awaited<ReturnType<typeof startRedis>> },
): Promise<Sample> {
  const { n, messages = MESSAGES, redis } = run;
  const extra = redis === undefined ? [] : ['--redis', redis.url];
  const started = await Promise.all(
    (redis === undefined ? [0] : [0, 1]).map(() => ServerProcess.start(subject, n, extra)),
  );
  const first = started[0]!;
  const sum = (of: (server: ServerProcess) => number) => started.reduce((total, s) => total + of(s.server), 0);
  try {
    const rssBefore = sum((s) => s.rssKb());
    const clients = await connect(
      started.map((s) => s.port),
      subject,
      subject.issuesTokens === true ? first.tokens : Array<string>(n).fill(''),
    );
    await clients.settled();
    const rssAfter = sum((s) => s.rssKb());
    let expected = 0;
    await first.server.publish(20); // warm-up
    await clients.until((expected += 20 * n));
    const cpu = sum((s) => s.cpuUs());
    const redisBefore = (await redis?.cpuUs()) ?? 0;
    await first.server.publish(messages);
    await clients.until((expected += messages * n));
    const used = sum((s) => s.cpuUs()) - cpu;
    const redisUsed = ((await redis?.cpuUs()) ?? 0) - redisBefore;
    clients.close();
    return {
      cpuUsPerDelivery: used / (messages * n),
      rssKbPerConnection: (rssAfter - rssBefore) / n,
      redisUsPerMessage: redisUsed / messages,
    };
  } finally {
    await Promise.all(started.map((s) => s.server.stop()));
  }
}

/** The middle value (the upper one of an even count). */
export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Measures every subject `rounds` times, the order reversed every other round (so neither end
 * of a round is always the same subject's), with a progress line; each subject's results in
 * round order, so results of one round can be compared.
 */
export async function interleavedRounds<T>(
  chosen: readonly Subject[],
  { rounds, label }: { rounds: number; label: string },
  measureOne: (subject: Subject) => Promise<T>,
): Promise<Map<Subject, T[]>> {
  const results = new Map<Subject, T[]>(chosen.map((s) => [s, []]));
  for (let round = 0; round < rounds; round++) {
    for (const subject of round % 2 === 0 ? chosen : [...chosen].reverse()) {
      process.stdout.write(`  ${label}round ${round + 1}/${rounds}: ${subject.name}…`.padEnd(78) + '\r');
      results.get(subject)!.push(await measureOne(subject));
    }
  }
  return results;
}

/** Enough messages that a run lasts long enough for /proc's 10 ms CPU ticks to be exact to ~1%. */
const messagesFor = (n: number) => Math.max(MESSAGES, Math.ceil(400_000 / n));

/** With `--report`, the results go to docs/bench/ as JSON, Markdown and SVG. */
export async function runFanoutBench(opts: { report?: boolean } = {}): Promise<boolean> {
  if (pinned) spawnSync('taskset', ['-cp', '1', String(process.pid)]);
  console.log(
    `fanout: one room, N subscribers, ${ROUNDS} rounds interleaved (median); ` +
      `servers ${pinned ? 'pinned to core 0, generator to core 1' : 'not pinned (no taskset)'}\n`,
  );
  const chosen = subjects.filter(named);
  const baseline = chosen[0]!;
  const sizes: SizeResult[] = [];
  for (const n of SIZES) {
    const messages = messagesFor(n);
    const samples = await interleavedRounds(chosen, { rounds: ROUNDS, label: `N=${n} ` }, (subject) =>
      measure(subject, { n, messages }),
    );
    const base = samples.get(baseline)!;
    const results = chosen.map((subject): SubjectResult => {
      const runs = samples.get(subject)!;
      const ratios = runs.map((s, i) => s.cpuUsPerDelivery / base[i]!.cpuUsPerDelivery);
      return {
        subject: subject.name,
        cpuUsPerDelivery: median(runs.map((s) => s.cpuUsPerDelivery)),
        runs: runs.map((s) => s.cpuUsPerDelivery),
        ratio: { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) },
        rssKbPerConnection: subject.noRss === true ? null : median(runs.map((s) => s.rssKbPerConnection)),
      };
    });
    sizes.push({ subscribers: n, messages, subjects: results });
    console.log(`N = ${n}, ${messages} messages`.padEnd(78));
    for (const r of results) {
      console.log(
        `  ${r.subject.padEnd(34)} ${r.cpuUsPerDelivery.toFixed(2).padStart(6)} µs CPU/delivery  ` +
          `×${r.ratio.median.toFixed(2)} (${r.ratio.min.toFixed(2)}–${r.ratio.max.toFixed(2)}) ${baseline.name}  ` +
          (r.rssKbPerConnection === null ? '' : `${r.rssKbPerConnection.toFixed(1)} KB RSS/connection`),
      );
    }
  }
  summarize(sizes);
  if (opts.report === true) {
    const dir = join(here, '..', 'docs', 'bench');
    writeReport(dir, { machine: machine(pinned), rounds: ROUNDS, baseline: baseline.name, sizes });
    console.log(`\nreport: ${dir}/fanout.{json,md,svg}`);
  }
  return true;
}

const LATENCY_SUBSCRIBERS = Number(process.env['BENCH_LATENCY_SUBSCRIBERS'] ?? 1_000);
/** One-room rates; `BENCH_RATES=` (empty) runs only the rooms scenario. */
const RATES = (process.env['BENCH_RATES'] ?? '25,50').split(',').filter(Boolean).map(Number);
const LATENCY_SECONDS = Number(process.env['BENCH_LATENCY_SECONDS'] ?? 5);
const ROOM_LATENCY_ROOMS = Number(process.env['BENCH_LATENCY_ROOMS'] ?? 1_000);
const ROOM_RATES = (process.env['BENCH_ROOM_RATES'] ?? '1000,2000').split(',').filter(Boolean).map(Number);

interface Latency {
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

const ms = (x: number) => x.toFixed(2).padStart(7);

const quantile = (sorted: Float64Array, q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!;

/**
 * Delivery latency at a fixed offered load: messages published on a schedule, latency from
 * when each was due (exact percentiles over every delivery), with N subscribers, and again
 * with one more subscriber that stops reading.
 */
export async function measureLatency(
  subject: Subject,
  opts: { n: number; rate: number; seconds: number; stalled: boolean; rooms?: number },
): Promise<Latency> {
  const total = opts.n + (opts.stalled ? 1 : 0);
  // The server reads the wall clock as it starts; this process may have read it long ago.
  resyncClock();
  const { server, port, tokens } = await ServerProcess.start(
    subject,
    total,
    opts.rooms === undefined ? [] : ['--rooms', String(opts.rooms)],
  );
  // Deliveries per publish: the room, or in rooms mode one room and one personal stream.
  const per = opts.rooms === undefined ? opts.n : opts.n / opts.rooms + 1;
  try {
    const clients = await connect(
      port,
      subject,
      subject.issuesTokens === true ? tokens : Array<string>(total).fill(''),
    );
    await clients.settled();
    if (opts.stalled) clients.stall();
    await server.publish(20); // warm-up
    await clients.until(20 * per);
    const latencies = clients.record();
    const count = Math.round(opts.rate * opts.seconds);
    await server.publishTimed(opts.rate, count);
    await clients.until((20 + count) * per);
    clients.close();
    const sorted = Float64Array.from(latencies).sort();
    return {
      p50: quantile(sorted, 0.5),
      p99: quantile(sorted, 0.99),
      p999: quantile(sorted, 0.999),
      max: sorted.at(-1)!,
    };
  } finally {
    await server.stop();
  }
}

/**
 * Rounds of the latency runs, subjects interleaved: a 5-second run's p99 moves a lot from run to run
 * here (five, as the fan-out runs; a stalled reader's ratio wants seven of 10 seconds to settle).
 */
const LATENCY_ROUNDS = Number(process.env['BENCH_LATENCY_ROUNDS'] ?? 5);

/** The subjects `BENCH_ONLY` names, with the first (raw `ws`, the baseline) always. */
function chosenSubjects(from: readonly Subject[]): Subject[] {
  return from.filter((s, i) => i === 0 || named(s));
}

/**
 * Runs `measure` for every subject, `LATENCY_ROUNDS` rounds interleaved (reversed every other
 * round), and prints each subject's medians and its p99 against the first subject's, round by
 * round (median and range of those ratios).
 */
async function latencyRounds(
  chosen: readonly Subject[],
  label: string,
  measure: (subject: Subject) => Promise<{ quiet: Latency; stalled?: Latency }>,
): Promise<void> {
  const runs = await interleavedRounds(chosen, { rounds: LATENCY_ROUNDS, label: `${label} ` }, measure);
  const base = runs.get(chosen[0]!)!;
  for (const subject of chosen) {
    const mine = runs.get(subject)!;
    const of = (pick: (l: Latency) => number) => median(mine.map((r) => pick(r.quiet)));
    const ratios = mine.map((r, i) => r.quiet.p99 / base[i]!.quiet.p99);
    const p99s = mine.map((r) => r.quiet.p99);
    const stalled = mine.flatMap((r) => (r.stalled === undefined ? [] : [r.stalled.p99 / r.quiet.p99]));
    console.log(
      `  ${subject.name.padEnd(34)} p50 ${ms(of((l) => l.p50))}  p99 ${ms(of((l) => l.p99))} ` +
        `(${Math.min(...p99s).toFixed(1)}–${Math.max(...p99s).toFixed(1)})  p99.9 ${ms(of((l) => l.p999))} ms  ` +
        `p99 ×${median(ratios).toFixed(2)} (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}) ` +
        `${chosen[0]!.name}` +
        (stalled.length === 0 ? '' : `;  with a stalled reader p99 ×${median(stalled).toFixed(2)} of its own`),
    );
  }
}

export async function runLatencyBench(): Promise<boolean> {
  if (pinned) spawnSync('taskset', ['-cp', '1', String(process.pid)]);
  const chosen = chosenSubjects(subjects.filter((s) => !s.name.includes('stringify')));
  console.log(
    `latency: ${LATENCY_SUBSCRIBERS} subscribers of one room, messages on a fixed schedule for ${LATENCY_SECONDS} s, ` +
      `latency from when each was due (every delivery, exact percentiles), then with one stalled subscriber more; ` +
      `${LATENCY_ROUNDS} rounds interleaved (medians)\n`,
  );
  for (const rate of RATES) {
    console.log(`${rate} messages/s (${rate * LATENCY_SUBSCRIBERS} deliveries/s)`.padEnd(78));
    await latencyRounds(chosen, `${rate}/s`, async (subject) => {
      const run = { n: LATENCY_SUBSCRIBERS, rate, seconds: LATENCY_SECONDS };
      const quiet = await measureLatency(subject, { ...run, stalled: false });
      const stalled = await measureLatency(subject, { ...run, stalled: true });
      return { quiet, stalled };
    });
  }

  const n = ROOM_LATENCY_ROOMS * 10;
  // Plain tRPC's server has one event stream for everyone: no rooms to measure.
  const inRooms = chosen.filter((s) => !s.name.startsWith('plain tRPC'));
  if (ROOM_RATES.length > 0) {
    console.log(
      `\n${ROOM_LATENCY_ROOMS} rooms of 10 subscribers (${n} connections), each with a personal stream too: every ` +
        `publish is one message to a room and one to a personal stream (11 deliveries); plain tRPC has no rooms here`,
    );
  }
  for (const rate of ROOM_RATES) {
    console.log(`${rate} publishes/s (${rate * 11} deliveries/s)`.padEnd(78));
    await latencyRounds(inRooms, `${rate}/s in rooms`, async (subject) => ({
      quiet: await measureLatency(subject, {
        n,
        rate,
        seconds: LATENCY_SECONDS,
        stalled: false,
        rooms: ROOM_LATENCY_ROOMS,
      }),
    }));
  }
  return true;
}

const NODES_SUBSCRIBERS = Number(process.env['BENCH_NODES_SUBSCRIBERS'] ?? 2_000);

/** A private Redis on a free port, for the two-node runs and memory on Redis; stopped with `stop()`. */
export async function startRedis(): Promise<{ url: string; cpuUs: () => Promise<number>; stop: () => void }> {
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = probe.address() as AddressInfo;
      probe.close(() => resolve(free));
    });
  });
  const child = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
    child.once('error', (error) => reject(new Error(`redis-server did not start: ${error.message}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line.includes('Ready to accept connections')) resolve();
    });
  });
  const url = `redis://127.0.0.1:${port}`;
  const client = new Redis(url);
  return {
    url,
    /** Redis' own CPU so far (user + system), in µs. */
    cpuUs: async () => {
      const info = await client.info('cpu');
      const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
      return (field('used_cpu_user') + field('used_cpu_sys')) * 1e6;
    },
    stop: () => {
      client.disconnect();
      child.kill('SIGKILL');
    },
  };
}

/**
 * `pnpm bench nodes`: one room's fan-out on one node against two nodes through Redis, for
 * streampod's push subscription on its Redis bus and Socket.IO with `@socket.io/redis-adapter`:
 * what the second node costs per delivery, both nodes' CPU counted.
 */
export async function runNodesBench(): Promise<boolean> {
  if (pinned) spawnSync('taskset', ['-cp', '1', String(process.pid)]);
  const n = NODES_SUBSCRIBERS;
  const messages = messagesFor(n);
  const chosen = subjects.filter((s) => s.name.startsWith('Socket.IO') || s.name.startsWith('streampod push'));
  console.log(
    `nodes: one room, ${n} subscribers dealt over one node or two sharing a Redis, messages published on the ` +
      `first node, ${ROUNDS} rounds interleaved (median); CPU of every node per delivery, Redis' CPU per message\n`,
  );
  const redis = await startRedis();
  try {
    const samples = new Map<string, Sample[]>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const subject of round % 2 === 0 ? chosen : [...chosen].reverse()) {
        for (const nodes of round % 2 === 0 ? [1, 2] : [2, 1]) {
          const key = `${subject.name}|${nodes}`;
          process.stdout.write(`  round ${round + 1}/${ROUNDS}: ${subject.name}, ${nodes} node(s)…`.padEnd(78) + '\r');
          const sample = await measure(subject, nodes === 2 ? { n, messages, redis } : { n, messages });
          samples.set(key, [...(samples.get(key) ?? []), sample]);
        }
      }
    }
    for (const subject of chosen) {
      const one = samples.get(`${subject.name}|1`)!;
      const two = samples.get(`${subject.name}|2`)!;
      const extra = two.map((t, i) => t.cpuUsPerDelivery - one[i]!.cpuUsPerDelivery);
      const ratio = two.map((t, i) => t.cpuUsPerDelivery / one[i]!.cpuUsPerDelivery);
      console.log(
        `  ${subject.name.padEnd(30)} one node ${median(one.map((s) => s.cpuUsPerDelivery)).toFixed(2)} µs/delivery, ` +
          `two nodes ${median(two.map((s) => s.cpuUsPerDelivery)).toFixed(2)} (both nodes' CPU): ` +
          `+${median(extra).toFixed(2)} µs per delivery, ×${median(ratio).toFixed(2)}; ` +
          `Redis ${median(two.map((s) => s.redisUsPerMessage)).toFixed(1)} µs CPU per message`,
      );
    }
  } finally {
    redis.stop();
  }
  return true;
}

/** One line per ratio the goals name: streampod's streams against each baseline, per N (medians of per-round ratios). */
export function summarize(sizes: readonly SizeResult[]): void {
  console.log('');
  for (const size of sizes) {
    for (const ours of size.subjects.filter((s) => s.subject.startsWith('streampod'))) {
      const against = size.subjects
        .filter((s) => !s.subject.startsWith('streampod'))
        .map((s) => `×${median(ours.runs.map((r, i) => r / s.runs[i]!)).toFixed(2)} ${s.subject}`);
      console.log(`N=${size.subscribers} ${ours.subject}: ${against.join(', ')}`);
    }
  }
}
