/**
 * `pnpm bench fanout`: server CPU per delivery of one room's messages to N subscribers,
 * streampod against raw `ws` (frame built once, and stringified per socket) and plain tRPC
 * v11, and resident memory per idle subscribed connection.
 *
 * Each server is its own process pinned to core 0 (`taskset`); this process, pinned to core
 * 1, is the load generator: raw sockets that count frames without decoding them. CPU comes
 * from /proc/<pid>/stat, so the figure is the server's own work, whatever the client costs.
 * Baselines run in the same run, interleaved over rounds; ratios are of medians.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { runMemoryBench } from './memory.js';

const here = dirname(fileURLToPath(import.meta.url));
const SIZES = (process.env['BENCH_SUBSCRIBERS'] ?? '500,2000').split(',').map(Number);
const MESSAGES = Number(process.env['BENCH_MESSAGES'] ?? 200);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const TICK_US = 1e6 / Number(spawnSync('getconf', ['CLK_TCK']).stdout.toString().trim() || 100);
const pinned = spawnSync('taskset', ['-V']).status === 0;

interface Subject {
  readonly name: string;
  readonly file: string;
  readonly args?: string[];
  /** The frame that subscribes, if the server needs one; its answer counts as the first frame. */
  readonly subscribe?: string;
}

export const subjects: Subject[] = [
  { name: 'raw ws, frame built once', file: 'servers/raw-ws.ts' },
  { name: 'raw ws, stringify per socket', file: 'servers/raw-ws.ts', args: ['--stringify'] },
  {
    name: 'plain tRPC v11 subscription',
    file: 'servers/trpc.ts',
    subscribe: '{"id":1,"method":"subscription","params":{"path":"onMessage","input":{}}}',
  },
  {
    name: 'streampod push subscription',
    file: 'servers/streampod.ts',
    subscribe: '{"id":1,"method":"subscription","params":{"path":"feed.onMessage","input":{}}}',
  },
];

class ServerProcess {
  readonly #lines: string[] = [];
  readonly #waiters: (() => void)[] = [];
  private constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      this.#lines.push(line);
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  static async start(subject: Subject): Promise<{ server: ServerProcess; port: number }> {
    // The framework as it ships (built by `pnpm bench`): run from source, tsx's keep-names
    // helper adds a property to every function it creates, which costs CPU and heap per closure.
    const source = process.env['BENCH_FROM_SOURCE'] === '1' ? ['--conditions=@streampod/source'] : [];
    const node = [process.execPath, ...source, '--import', 'tsx', join(here, subject.file), ...(subject.args ?? [])];
    const child = spawn(pinned ? 'taskset' : node[0]!, pinned ? ['-c', '0', ...node] : node.slice(1), {
      cwd: here,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const server = new ServerProcess(child);
    const line = await server.next((l) => l.startsWith('port '));
    return { server, port: Number(line.slice(5)) };
  }

  async next(test: (line: string) => boolean): Promise<string> {
    for (;;) {
      const i = this.#lines.findIndex(test);
      if (i !== -1) return this.#lines.splice(i, 1)[0]!;
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
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
      this.child.kill('SIGKILL');
    });
  }
}

/** N sockets counting frames; resolves `until(total)` when that many have arrived in all. */
async function connect(port: number, n: number, subscribe: string | undefined) {
  let frames = 0;
  let target = Infinity;
  let reached: (() => void) | undefined;
  const sockets: WebSocket[] = [];
  const opened: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/${subscribe === undefined ? '' : 'trpc'}`, {
      perMessageDeflate: false,
    });
    socket.on('message', () => {
      if (++frames >= target && reached !== undefined) {
        const wake = reached;
        reached = undefined;
        wake();
      }
    });
    opened.push(
      new Promise((resolve, reject) => {
        socket.once('open', () => {
          if (subscribe !== undefined) socket.send(subscribe);
          resolve();
        });
        socket.once('error', reject);
      }),
    );
    sockets.push(socket);
    // A few at a time: a burst of thousands of handshakes overflows the listen backlog.
    if (i % 100 === 99) await Promise.all(opened.slice(-100));
  }
  await Promise.all(opened);
  const until = (total: number) =>
    frames >= total ? Promise.resolve() : new Promise<void>((resolve) => ((target = total), (reached = resolve)));
  return {
    until,
    get frames() {
      return frames;
    },
    close: () => sockets.forEach((s) => s.terminate()),
  };
}

interface Sample {
  cpuUsPerDelivery: number;
  rssKbPerConnection: number;
}

/** One server, N subscribers, `messages` messages: its CPU per delivery and RSS per connection. */
export async function measure(subject: Subject, n: number, messages = MESSAGES): Promise<Sample> {
  const { server, port } = await ServerProcess.start(subject);
  try {
    const rssBefore = server.rssKb();
    const clients = await connect(port, n, subject.subscribe);
    await clients.until(n); // every subscription confirmed
    const rssAfter = server.rssKb();
    let expected = n;
    await server.publish(20); // warm-up
    await clients.until((expected += 20 * n));
    const cpu = server.cpuUs();
    await server.publish(messages);
    await clients.until((expected += messages * n));
    const used = server.cpuUs() - cpu;
    clients.close();
    return { cpuUsPerDelivery: used / (messages * n), rssKbPerConnection: (rssAfter - rssBefore) / n };
  } finally {
    await server.stop();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function runFanoutBench(): Promise<boolean> {
  if (pinned) spawnSync('taskset', ['-cp', '1', String(process.pid)]);
  console.log(
    `fanout: one room, ${MESSAGES} messages to N subscribers, ${ROUNDS} rounds interleaved (median); ` +
      `servers ${pinned ? 'pinned to core 0, generator to core 1' : 'not pinned (no taskset)'}\n`,
  );
  for (const n of SIZES) {
    const samples = new Map<Subject, Sample[]>(subjects.map((s) => [s, []]));
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? subjects : [...subjects].reverse();
      for (const subject of order) {
        process.stdout.write(`  N=${n} round ${round + 1}/${ROUNDS}: ${subject.name}…\r`);
        samples.get(subject)!.push(await measure(subject, n));
      }
    }
    const baseline = median(samples.get(subjects[0]!)!.map((s) => s.cpuUsPerDelivery));
    console.log(`N = ${n}`.padEnd(60));
    for (const subject of subjects) {
      const runs = samples.get(subject)!;
      const cpu = median(runs.map((s) => s.cpuUsPerDelivery));
      const rss = median(runs.map((s) => s.rssKbPerConnection));
      console.log(
        `  ${subject.name.padEnd(30)} ${cpu.toFixed(2).padStart(6)} µs CPU/delivery  ×${(cpu / baseline).toFixed(2)} raw ws  ` +
          `(runs ${runs.map((s) => s.cpuUsPerDelivery.toFixed(1)).join('/')})  ${rss.toFixed(1)} KB RSS/connection`,
      );
    }
  }
  return true;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const names = process.argv.slice(2);
  const runs: Record<string, () => Promise<boolean>> = { fanout: runFanoutBench, memory: () => runMemoryBench() };
  let ok = true;
  for (const name of names.length > 0 ? names : Object.keys(runs)) ok = (await runs[name]!()) && ok;
  process.exitCode = ok ? 0 : 1;
}
