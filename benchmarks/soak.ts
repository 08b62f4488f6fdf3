/**
 * `pnpm soak`: minutes of steady load with churn on one chat server over real sockets (stock
 * tRPC clients connecting and leaving, streams opened and closed, messages, typing, statuses),
 * then the heap after GC compared with the start: a leak per connection, stream or message
 * shows as growth. `SOAK_SECONDS` (default 180) and `SOAK_USERS` (default 200) size it.
 */
import { stockWsClient, type StockWsClient } from '@streampod/framework/testing';
import { pathToFileURL } from 'node:url';
import { benchChatServer } from './chat-app.js';
import { settledHeap } from './memory.js';

interface Client {
  readonly close: () => void;
  readonly client: StockWsClient;
}

export interface SoakResult {
  seconds: number;
  users: number;
  heapStartMb: number;
  heapEndMb: number;
  ratio: number;
  connects: number;
  messagesSent: number;
  eventsReceived: number;
  errors: number;
}

export async function runSoak(opts: {
  seconds: number;
  users: number;
  log?: (line: string) => void;
}): Promise<SoakResult> {
  const log = opts.log ?? (() => undefined);
  const bench = await benchChatServer({ users: opts.users });
  const { port } = await bench.server.listen({ port: 0, host: '127.0.0.1' });
  const wsUrl = `ws://127.0.0.1:${port}/trpc`;
  const ids = bench.users.map((u) => u.id);
  // Rooms of ten, so every message reaches a handful of streams.
  const rooms: number[] = [];
  for (let i = 0; i < ids.length; i += 10) {
    const room = await bench.services.chat.createRoom(ids[i]!, {
      name: `soak ${i / 10}`,
      memberIds: ids.slice(i + 1, i + 10),
    });
    rooms.push(room.id);
  }
  const tokens = await Promise.all(bench.users.map((u) => bench.tokens.issue({ id: u.id, username: u.username })));
  const roomOf = (index: number) => rooms[Math.floor(index / 10)]!;

  let eventsReceived = 0;
  let errors = 0;
  let connects = 0;
  let messagesSent = 0;
  let seq = 0;
  const connected = new Map<number, Client>();

  const connect = (index: number): Client => {
    connects++;
    const client = stockWsClient(wsUrl, tokens[index]);
    const handlers = { onData: () => eventsReceived++, onError: () => errors++ };
    const stream = client.subscription('chat.stream', undefined, handlers);
    const presence = client.subscription('presence.subscribeToRoom', { roomId: roomOf(index) }, handlers);
    return {
      client,
      close: () => {
        stream.unsubscribe();
        presence.unsubscribe();
        void client.close();
      },
    };
  };

  const call = (index: number, path: string, input: unknown) =>
    connected
      .get(index)!
      .client.mutation(path, input)
      .then(
        () => {
          if (path === 'chat.sendMessage') messagesSent++;
        },
        () => errors++,
      );

  /** One tick of load: a few leave and come back, a few send, type or change status. */
  const tick = async () => {
    const pick = () => Math.floor(Math.random() * opts.users);
    for (let k = 0; k < 2; k++) {
      const leaving = pick();
      connected.get(leaving)?.close();
      connected.set(leaving, connect(leaving));
    }
    const work: Promise<unknown>[] = [];
    for (let k = 0; k < 5; k++) {
      const sender = pick();
      work.push(
        call(sender, 'chat.sendMessage', {
          roomId: roomOf(sender),
          content: `soak ${++seq}`,
          clientMessageId: `s${seq}`,
        }),
      );
    }
    const typist = pick();
    work.push(call(typist, 'chat.sendStreamMessage', { type: 'typing', roomId: roomOf(typist), isTyping: true }));
    const status = pick();
    work.push(call(status, 'presence.setStatus', { status: Math.random() < 0.5 ? 'busy' : 'online' }));
    await Promise.all(work);
  };

  // Batches and timers in flight settle first (a soak measures growth, not timing).
  const heapMb = async () => (await settledHeap(1_000)) / 2 ** 20;

  for (let i = 0; i < opts.users; i++) connected.set(i, connect(i));
  // Warm up: every code path has run and every cache holds what steady load keeps in it.
  const warmUntil = Date.now() + Math.min(20_000, opts.seconds * 200);
  while (Date.now() < warmUntil) await tick();
  const heapStartMb = await heapMb();
  log(`soak: ${opts.users} users, ${opts.seconds} s; heap after warm-up ${heapStartMb.toFixed(1)} MiB`);
  const until = Date.now() + opts.seconds * 1_000;
  let nextReport = Date.now() + 30_000;
  while (Date.now() < until) {
    await tick();
    await new Promise((resolve) => setTimeout(resolve, 20));
    if (Date.now() >= nextReport) {
      nextReport += 30_000;
      log(
        `  ${Math.round((until - Date.now()) / 1000)} s left: ${messagesSent} sent, ${eventsReceived} events, ${connects} connects`,
      );
    }
  }
  const heapEndMb = await heapMb();
  for (const c of connected.values()) c.close();
  await bench.close();
  return {
    seconds: opts.seconds,
    users: opts.users,
    heapStartMb,
    heapEndMb,
    ratio: heapEndMb / heapStartMb,
    connects,
    messagesSent,
    eventsReceived,
    errors,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await runSoak({
    seconds: Number(process.env['SOAK_SECONDS'] ?? 180),
    users: Number(process.env['SOAK_USERS'] ?? 200),
    log: (line) => console.log(line),
  });
  console.log(
    `soak: heap after GC ${result.heapStartMb.toFixed(1)} → ${result.heapEndMb.toFixed(1)} MiB (×${result.ratio.toFixed(3)}, goal ≤ 1.10: ${result.ratio <= 1.1 ? 'met' : 'NOT met'}); ` +
      `${result.connects} connects, ${result.messagesSent} messages, ${result.eventsReceived} events received, ${result.errors} errors`,
  );
  process.exitCode = result.ratio <= 1.1 ? 0 : 1;
}
