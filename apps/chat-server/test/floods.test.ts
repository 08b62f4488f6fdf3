import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createStreampodClient, type ChatMessage } from '@streampod/client';
import { createTestPostgres, registerUser } from '@streampod/server/testing';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ChatServerProcess } from './chat-server-process.js';

const dataDir = () => mkdtemp(join(tmpdir(), 'streampod-floods-'));
const MIB = 1024 * 1024;

/** The server process' resident memory, from /proc. */
function rssBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'))!;
  return Number(/(\d+)/.exec(line)![1]) * 1024;
}

async function unsentBytes(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^streampod_unsent_bytes (\d+)/m.exec(text)![1]);
}

/** Readers the server has cut off for the server-wide unsent budget, so far. */
async function totalBudgetCuts(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^streampod_slow_consumers_total\{budget="total"\} (\d+)/m.exec(text)?.[1] ?? 0);
}

/** `flooder.ts` in a process of its own, signed in as a room's member and driven line by line. */
class Flooder implements AsyncDisposable {
  private constructor(
    private readonly child: ChildProcessByStdio<Writable, Readable, null>,
    private readonly lines: AsyncIterator<string>,
  ) {}

  static async start(wsUrl: string, token: string, roomId: number): Promise<Flooder> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/flooder.ts', wsUrl, token, String(roomId)], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    // Writing to a flooder that has gone fails the next read with its reason, not the worker with EPIPE.
    child.stdin.on('error', () => undefined);
    const flooder = new Flooder(child, createInterface({ input: child.stdout })[Symbol.asyncIterator]());
    try {
      await flooder.expect('ready');
    } catch (error) {
      await flooder[Symbol.asyncDispose]();
      throw error;
    }
    return flooder;
  }

  /** Starts flooding, up to 5,000 `chat.sendMessage` a second in batches of 50; resolves once the first batch is sent. */
  async start(): Promise<void> {
    this.child.stdin.write('flood\n');
    await this.expect('flooding');
  }

  /** Stops flooding; resolves once its last batch has been answered. */
  async stop(): Promise<void> {
    this.child.stdin.write('stop\n');
    await this.expect('stopped');
  }

  /** The message ids the server accepted, and how many it refused; the flooder exits. */
  async end(): Promise<{ accepted: number[]; refused: number }> {
    this.child.stdin.write('end\n');
    return JSON.parse(await this.line('end')) as { accepted: number[]; refused: number };
  }

  private async line(asked: string): Promise<string> {
    const { value, done } = await this.lines.next();
    if (done === true) throw new Error(`the flooder exited (${asked}): see its stderr above`);
    return value;
  }

  private async expect(line: string): Promise<void> {
    const got = await this.line(line);
    if (got !== line) throw new Error(`the flooder said ${got}, not ${line}`);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const closed = once(this.child, 'close');
    this.child.kill('SIGKILL');
    await closed;
  }
}

/** The messages a `chat.stream` of `streamClient` brings, from once it has started. */
async function streamMessages(streamClient: ReturnType<typeof client>) {
  const messages: { content: string; messageId: number }[] = [];
  let started!: () => void;
  const streaming = new Promise<void>((resolve) => (started = resolve));
  const stop = streamClient.chat.stream().listen({
    onStarted: () => started(),
    onData: (event) => {
      if (event.type === 'message') messages.push(event);
    },
  });
  await streaming;
  return { messages, stop };
}

function client(url: string, token: string) {
  return createStreampodClient({ url, WebSocket, token, reconnect: { initialDelayMs: 20, maxDelayMs: 200 } });
}

/**
 * A reader on a bare socket that subscribes to `chat.stream` under its own request id (so no
 * two share a frame's bytes: the server's worst case), then stops reading when told.
 */
async function pausableReader(
  wsUrl: string,
  token: string,
  stream: { requestId: number; lastEventId?: string | undefined },
) {
  const { requestId, lastEventId } = stream;
  const ws = new WebSocket(`${wsUrl}?connectionParams=1`, { perMessageDeflate: false });
  ws.on('error', () => undefined);
  const contents: string[] = [];
  let lastId: string | undefined;
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  const waiters: { count: number; resolve: () => void }[] = [];
  const started = new Promise<void>((resolve) => {
    ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString('utf8')) as {
        id: number;
        result?: { type: string; id?: string; data?: { json?: { data?: { type: string; content?: string } } } };
      };
      if (frame.id !== requestId) return;
      if (frame.result?.type === 'started') resolve();
      const event = frame.result?.data?.json?.data;
      if (event?.type === 'message') {
        contents.push(event.content!);
        lastId = frame.result!.id;
        for (const waiter of waiters.filter((w) => contents.length >= w.count)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
    });
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  ws.send(JSON.stringify({ method: 'connectionParams', data: { token } }));
  ws.send(
    JSON.stringify({
      id: requestId,
      method: 'subscription',
      params: { path: 'chat.stream', input: { json: lastEventId === undefined ? {} : { lastEventId } } },
    }),
  );
  await started;
  return {
    token,
    contents,
    closed,
    /** Resolves once `count` messages have come. */
    received: (count: number) =>
      contents.length >= count ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ count, resolve })),
    lastEventId: () => lastId,
    pause: () => ws.pause(),
    resume: () => ws.resume(),
    close: () => ws.terminate(),
  };
}

/** `n` users, a few at a time: the server hashes only so many passwords at once. */
async function registerMany(server: ChatServerProcess, n: number) {
  const users: Awaited<ReturnType<typeof registerUser>>[] = [];
  while (users.length < n) {
    const batch = Math.min(32, n - users.length);
    users.push(...(await Promise.all(Array.from({ length: batch }, () => registerUser(server, 'flood')))));
  }
  return users;
}

describe('floods against a server process', () => {
  it(
    '100 paused readers in a busy room stay within the server-wide unsent budget; each resumes without a gap',
    { timeout: 60_000 },
    async () => {
      // FLOOD_UNSENT_MIB=100000 shows what the flood costs without a server-wide budget (and fails).
      const budgetMib = Number(process.env['FLOOD_UNSENT_MIB'] ?? 128);
      // On PostgreSQL, so the process' memory is the server's own (PGlite's would blur it).
      await using pg = await createTestPostgres();
      await using server = await ChatServerProcess.start({
        DATA_DIR: await dataDir(),
        DATABASE_URL: pg.url,
        MAX_UNSENT_MIB: String(budgetMib),
        RATE_LIMIT_MESSAGES: '100000/1s',
        // The sampler below asks /metrics every 50 ms without waiting for answers: a busy server holds
        // hundreds of its HTTP sockets at once. The per-address cap on those is not this test's subject.
        MAX_HTTP_CONNECTIONS_PER_IP: '100000',
      });
      const atStart = rssBytes(server.pid!);
      const users = await registerMany(server, 102);
      console.info(
        `RSS at start ${(atStart / MIB).toFixed(0)} MiB, after 102 sign-ups ${(rssBytes(server.pid!) / MIB).toFixed(0)} MiB`,
      );
      const [sender, watcher, ...readers] = users as [(typeof users)[0], (typeof users)[0], ...typeof users];
      const senderClient = client(server.url, sender.token);
      const room = await senderClient.chat.createRoom({ name: 'busy', memberIds: users.slice(1).map((u) => u.id) });

      const watcherClient = client(server.url, watcher.token);
      const { messages: seen, stop: stopStream } = await streamMessages(watcherClient);
      const paused = await Promise.all(
        readers.map((r, i) => pausableReader(server.wsUrl, r.token, { requestId: 1000 + i })),
      );
      const padding = 'x'.repeat(16_000);
      /** `count` messages of 16 KiB, numbered from `from`, 20 in flight at a time. */
      const flood = async (from: number, count: number) => {
        const stored: ChatMessage[] = [];
        for (let i = from; i < from + count; i += 20) {
          const batch = Array.from({ length: 20 }, (_, j) =>
            senderClient.chat.sendMessage({
              roomId: room.id,
              content: `#${i + j} ${padding}`,
              clientMessageId: `m${i + j}`,
            }),
          );
          stored.push(...(await Promise.all(batch)));
        }
        return stored;
      };
      // The same flood first while everyone reads: the heap grows to what a flood takes, so what
      // grows after is what the paused readers cost.
      const warmUp = 200;
      await flood(0, warmUp);
      await Promise.all(paused.map((reader) => reader.received(warmUp)));
      await expect.poll(() => seen.length, { timeout: 20_000 }).toBe(warmUp);
      for (const reader of paused) reader.contents.length = 0;
      seen.length = 0;
      for (const reader of paused) reader.pause();

      const before = rssBytes(server.pid!);
      let peak = before;
      let unsentPeak = 0;
      const sampler = setInterval(() => {
        peak = Math.max(peak, rssBytes(server.pid!));
        void unsentBytes(server.url).then((bytes) => (unsentPeak = Math.max(unsentPeak, bytes)));
      }, 50);
      // 600 messages of 16 KiB: 9.4 MiB for each reader, 940 MiB queued in all if nobody were cut.
      // That is past the budget where a paused socket's kernel buffers take a few MiB; where they
      // take more (receive buffers grow to `tcp_rmem`'s maximum, 32 MiB on some machines), the
      // flood goes on, 200 at a time, until the server-wide budget has cut someone.
      const sent = await flood(warmUp, 600);
      while (sent.length < 1_400 && (await totalBudgetCuts(server.url)) === 0)
        sent.push(...(await flood(warmUp + sent.length, 200)));
      const total = sent.length;
      await expect.poll(() => seen.length, { timeout: 20_000 }).toBe(total);
      sent.sort((a, b) => a.id - b.id);
      clearInterval(sampler);
      const after = rssBytes(server.pid!);
      peak = Math.max(peak, after);

      // The reader that kept reading got everything, in order.
      expect(seen.map((m) => m.content.split(' ')[0])).toEqual(sent.map((m) => m.content.split(' ')[0]));
      const grewMib = (peak - before) / MIB;
      console.info(
        `100 paused readers, ${total} × 16 KiB, budget ${budgetMib} MiB: unsent bytes at most ` +
          `${(unsentPeak / MIB).toFixed(1)} MiB; RSS ${(before / MIB).toFixed(0)} → peak ${(peak / MIB).toFixed(0)} MiB ` +
          `(+${grewMib.toFixed(0)}), ${(after / MIB).toFixed(0)} MiB at the end`,
      );
      // What the server holds for its readers stays within the budget (the pass that cuts runs
      // once a 64th over it could have been queued, so by a frame or so past it at most).
      expect(unsentPeak).toBeLessThan(budgetMib * MIB * (1 + 1 / 64) + 64 * 1024);
      // And so does the process: each slow reader's queue holds its own few bytes per event and
      // one shared copy of the event's body (a fragmented message). Before bodies were shared,
      // RSS grew by 105-139 MiB at a 32 MiB budget, and by 540 MiB without one.
      expect(grewMib).toBeLessThan(budgetMib);

      // Each paused reader, reading again, got a gapless start of the room, then either the rest
      // or a cut (1006); cut readers resume from their last event id with nothing lost or twice.
      const expected = sent.map((m) => m.content.split(' ')[0]);
      const numbers = (contents: string[]) => contents.map((c) => c.split(' ')[0]);
      for (const reader of paused) reader.resume();
      const cutCodes = await Promise.all(
        paused.map((r) => Promise.race([r.closed, r.received(total).then(() => undefined)])),
      );
      const cut = paused.filter((_, i) => cutCodes[i] !== undefined);
      expect(cutCodes.filter((code) => code !== undefined && code !== 1006)).toEqual([]);
      // How many are cut depends on how much the kernel buffers for a paused socket (bigger
      // writes fit more): 42, 49 and 62 of 100 in three runs on one machine, none at 600 messages
      // on another (hence the flood above goes on until someone is). The budget itself is what
      // the peak above proves.
      console.info(`${cut.length} of ${paused.length} paused readers cut`);
      expect(cut.length).toBeGreaterThan(0);
      for (const reader of paused) expect(numbers(reader.contents)).toEqual(expected.slice(0, reader.contents.length));
      // Five of them, spread out (each catches up on megabytes the test process must parse).
      for (const reader of cut.filter((_, i) => i % Math.ceil(cut.length / 5) === 0)) {
        const resumed = await pausableReader(server.wsUrl, reader.token, {
          requestId: 1,
          lastEventId: reader.lastEventId(),
        });
        await resumed.received(total - reader.contents.length);
        expect(numbers([...reader.contents, ...resumed.contents])).toEqual(expected);
        resumed.close();
      }
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      expect(metrics).toMatch(/streampod_slow_consumers_total\{budget="total"\} [1-9]/);
      stopStream();
      await Promise.all([senderClient.close(), watcherClient.close()]);
    },
  );

  it(
    'a message flood from one user is throttled while another user is served as fast as when quiet',
    { timeout: 60_000 },
    async () => {
      await using server = await ChatServerProcess.start({ DATA_DIR: await dataDir() });
      const [flooder, other, member] = await registerMany(server, 3);
      const flooderClient = client(server.url, flooder!.token);
      const otherClient = client(server.url, other!.token);
      const memberClient = client(server.url, member!.token);
      const room = await flooderClient.chat.createRoom({ name: 'flooded', memberIds: [member!.id] });
      const { messages: memberGot, stop: stopStream } = await streamMessages(memberClient);

      /**
       * p99 of `users.me` for the other user, over 500 calls one after another (over 300 it was
       * the third-slowest call, which one scheduler hiccup on a busy 2-core machine decides).
       */
      const p99 = async () => {
        const took: number[] = [];
        for (let i = 0; i < 500; i++) {
          const at = performance.now();
          await otherClient.users.me();
          took.push(performance.now() - at);
        }
        return took.sort((a, b) => a - b)[Math.floor(took.length * 0.99)]!;
      };
      await p99(); // warm-up

      // The flood comes from a process of its own (see flooder.ts), not this one's event loop.
      await using flood = await Flooder.start(server.wsUrl, flooder!.token, room.id);
      // Quiet and flooded, five times over, each flooded window against the quiet one just before
      // it, and the median round decides: one noisy window of a 2-core machine, with other test
      // files running beside, does not (with three rounds, one CI run of the last seven saw 9.0,
      // 6.9, 5.0 ms quiet against 14.7, 9.9, 14.3 flooded; with medians of each side taken apart,
      // 6.6, 4.8, 3.5, 4.2, 2.8 against 10.4, 9.2, 9.4, 5.2, 4.2 failed by 0.05 ms, though four of
      // its five rounds were within the bound).
      const ROUNDS = 5;
      const quietRounds: number[] = [];
      const floodedRounds: number[] = [];
      const floodStarted = performance.now();
      let floodedMs = 0;
      for (let round = 0; round < ROUNDS; round++) {
        quietRounds.push(await p99());
        const from = performance.now();
        await flood.start();
        floodedRounds.push(await p99());
        await flood.stop();
        floodedMs += performance.now() - from;
      }
      const floodSeconds = (performance.now() - floodStarted) / 1000;
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(ROUNDS / 2)]!;
      const quiet = median(quietRounds);
      const flooded = median(floodedRounds);
      const { accepted: acceptedIds, refused } = await flood.end();
      const accepted = acceptedIds.sort((a, b) => a - b);

      const refusalLines = server.logs.filter((l) => String(l['msg']).startsWith('refused: chat.sendMessage'));
      console.info(
        `message flood: ${accepted.length} accepted, ${refused} refused (${Math.round(refused / (floodedMs / 1000))}/s while flooding); the other user's users.me p99 ` +
          `${quiet.toFixed(1)} ms quiet, ${flooded.toFixed(1)} ms under the flood (medians of ${ROUNDS} rounds: ${quietRounds.map((q) => q.toFixed(1)).join(', ')} / ${floodedRounds.map((f) => f.toFixed(1)).join(', ')})`,
      );
      // The server kept up with the flood (5,000 requests a second at most): refusals are cheap.
      expect(refused / (floodedMs / 1000)).toBeGreaterThan(2_500);
      // A burst of 30, and 3 per second after.
      expect(accepted.length).toBeLessThanOrEqual(30 + Math.ceil(3 * floodSeconds));
      // Under the flood, the other user's p99 stays under twice the quiet one (or 5 ms more), in most rounds.
      const overBound = floodedRounds.map((f, i) => f - Math.max(2 * quietRounds[i]!, quietRounds[i]! + 5));
      expect(median(overBound)).toBeLessThan(0);
      // The log says who was refused, without a line per refusal.
      expect(refusalLines[0]).toMatchObject({ user: flooder!.id, code: 'TOO_MANY_REQUESTS' });
      expect(refusalLines.length).toBeLessThan(5);
      // Nothing accepted is lost: the member got each accepted message, once.
      await expect.poll(() => memberGot.length).toBe(accepted.length);
      expect(memberGot.map((m) => m.messageId)).toEqual(accepted);
      stopStream();
      await Promise.all([flooderClient.close(), otherClient.close(), memberClient.close()]);
    },
  );
});
