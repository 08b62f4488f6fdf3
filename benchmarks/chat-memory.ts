/**
 * `pnpm bench memory` (second part): the chat server's heap per idle authenticated
 * connection holding one `chat.stream`, and per further subscription on it (a
 * `presence.subscribeToPresence` of the user's room-mates, then a `presence.subscribeToRoom`
 * of the user's room), after GC. The watches are measured apart: the first of each room on the
 * node (what a watched user costs there comes with it), then the nine others. In-process sockets,
 * as in memory.ts: what `ws` holds per socket comes on top, and is the same for any server.
 * Users are in rooms of 10, as in Centrifugo's million-connection load mix.
 */
import type { TransportSocket } from '@streampod/framework';
import { benchChatServer } from './chat-app.js';
import { describeMemory, MEMORY_STEPS, memoryFigures, settledHeap, type MemoryFigures } from './memory.js';
import { startRedis } from './run.js';

/** The chat server's figures: `perSubscriptionKb` is the presence watch of 10; the room presence stream on top. */
export interface ChatMemoryFigures extends MemoryFigures {
  /** KB per `presence.subscribeToRoom`, one on each connection, after the presence watch. */
  readonly roomPresenceKb: number;
  /** KB per first presence watch of a room's ten on the node: the watch, and what each watched user costs there. */
  readonly firstWatchKb: number;
  /** KB per further watch of the same ten: what a watch itself costs. */
  readonly furtherWatchKb: number;
}

export async function measureChatMemory(
  steps: readonly number[] = MEMORY_STEPS,
  opts: { redisUrl?: string } = {},
): Promise<ChatMemoryFigures> {
  const n = steps.at(-1)!;
  const {
    server,
    services,
    tokens,
    users: rows,
    close,
  } = await benchChatServer({
    users: n,
    heartbeatIntervalMs: 3_600_000,
    ...opts,
  });
  const roomIds: number[] = [];
  for (let i = 0; i < n; i += 10) {
    const group = rows.slice(i, i + 10);
    const room = await services.chat.createRoom(group[0]!.id, {
      name: `room ${i / 10}`,
      memberIds: group.slice(1).map((u) => u.id),
    });
    roomIds.push(room.id);
  }
  const issued = await Promise.all(rows.map((u) => tokens.issue({ id: u.id, username: u.username })));

  let started = 0;
  let wake: (() => void) | undefined;
  let want = 0;
  const socket: TransportSocket = {
    send(frame) {
      const text = typeof frame === 'string' ? frame : '';
      if (text.includes('"started"') && ++started >= want) wake?.();
    },
    close: () => undefined,
    isOpen: true,
    bufferedBytes: 0,
  };
  const until = (count: number) =>
    started >= count ? Promise.resolve() : new Promise<void>((resolve) => ((want = count), (wake = resolve)));
  const settle = () => settledHeap(200);

  const base = await settle();
  const connections: ReturnType<typeof server.acceptSocket>[] = [];
  const heaps: number[] = [];
  for (const step of steps) {
    while (connections.length < step) {
      const c = server.acceptSocket(socket, { remoteAddress: '127.0.0.1', connectionParams: true });
      c.onText(JSON.stringify({ method: 'connectionParams', data: { token: issued[connections.length] } }));
      c.onText('{"id":1,"method":"subscription","params":{"path":"chat.stream","input":{}}}');
      connections.push(c);
    }
    await until(step);
    heaps.push(await settle());
  }
  let opened = n;
  /** Subscription `id` of `path`, as connection `i` asks for it. */
  const request = (id: number, path: string, inputOf: (i: number) => unknown) => (i: number) =>
    JSON.stringify({ id, method: 'subscription', params: { path, input: { json: inputOf(i) } } });
  /**
   * Opens a subscription on the connections `at`: first those of the first step, then the rest.
   * KB per subscription of the rest (free of what the first ones made once, as the connection
   * slope is), and the heap growth and count it is taken over.
   */
  const subscribeAll = async (at: readonly number[], frameOf: (i: number) => string) => {
    const heapsAt: number[] = [];
    const groups = [at.filter((i) => i < steps[0]!), at.filter((i) => i >= steps[0]!)];
    for (const group of groups) {
      for (const i of group) connections[i]!.onText(frameOf(i));
      await until((opened += group.length));
      heapsAt.push(await settle());
    }
    const grown = heapsAt[1]! - heapsAt[0]!;
    const count = groups[1]!.length;
    return { kb: grown / count / 1024, grown, count };
  };
  const every = connections.map((_, i) => i);
  const watch = request(2, 'presence.subscribeToPresence', (i) => ({
    userIds: rows.slice(i - (i % 10), i - (i % 10) + 10).map((u) => u.id),
  }));
  // Every member of a room watches the room's ten: the first watch on the node makes what each
  // watched user costs there, the nine others add what a watch costs.
  const first = await subscribeAll(
    every.filter((i) => i % 10 === 0),
    watch,
  );
  const further = await subscribeAll(
    every.filter((i) => i % 10 !== 0),
    watch,
  );
  const room = await subscribeAll(
    every,
    request(3, 'presence.subscribeToRoom', (i) => ({ roomId: roomIds[Math.floor(i / 10)] })),
  );
  for (const c of connections) c.onClose();
  await close();
  return {
    // The table's figure stays one watch of 10, averaged over a room's ten, comparable with earlier runs.
    ...memoryFigures({
      steps,
      base,
      heaps,
      perSubscriptionKb: (first.grown + further.grown) / (first.count + further.count) / 1024,
    }),
    firstWatchKb: first.kb,
    furtherWatchKb: further.kb,
    roomPresenceKb: room.kb,
  };
}

/** The watch's parts and the room presence stream, for the terminal. */
export function describeWatches(m: ChatMemoryFigures): string {
  return (
    ` (the first watch of a room's ten on the node ${m.firstWatchKb.toFixed(2)} KB, each further one ` +
    `${m.furtherWatchKb.toFixed(2)} KB: ${((m.firstWatchKb - m.furtherWatchKb) / 10).toFixed(2)} KB per watched user ` +
    `and node), ${m.roomPresenceKb.toFixed(2)} KB per room presence subscription (presence.subscribeToRoom)`
  );
}

export async function runChatMemoryBench(): Promise<boolean> {
  const m = await measureChatMemory();
  console.log(
    describeMemory(
      'chat memory, rooms of 10, heap after GC, an authenticated connection with one chat.stream',
      'further subscription (a presence watch of 10)',
      m,
    ) + describeWatches(m),
  );
  // A node of a cluster: the bus and presence on Redis (each topic a subscription there, presence kept there).
  let redis: Awaited<ReturnType<typeof startRedis>>;
  try {
    redis = await startRedis();
  } catch (error) {
    console.log(`the same on Redis: skipped (${(error as Error).message})`);
    return true;
  }
  try {
    const r = await measureChatMemory(MEMORY_STEPS, { redisUrl: redis.url });
    console.log(
      describeMemory('the same on Redis (a node of a cluster)', 'presence watch of 10', r) + describeWatches(r),
    );
  } finally {
    redis.stop();
  }
  return true;
}
