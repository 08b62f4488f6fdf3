/**
 * `pnpm bench memory` (second part): the chat server's heap per idle authenticated
 * connection holding one `chat.stream`, and per further subscription on it (a
 * `presence.subscribeToPresence` of the user's room-mates, then a `presence.subscribeToRoom`
 * of the user's room), after GC. In-process sockets,
 * as in memory.ts: what `ws` holds per socket comes on top, and is the same for any server.
 * Users are in rooms of 10, as in Centrifugo's million-connection load mix.
 */
import type { TransportSocket } from '@streampod/framework';
import { benchChatServer } from './chat-app.js';
import {
  describeMemory,
  MEMORY_STEPS,
  memoryFigures,
  settledHeap,
  subscriptionSlopeKb,
  type MemoryFigures,
} from './memory.js';
import { startRedis } from './run.js';

/** The chat server's figures: `perSubscriptionKb` is the presence watch of 10; the room presence stream on top. */
export interface ChatMemoryFigures extends MemoryFigures {
  /** KB per `presence.subscribeToRoom`, one on each connection, after the presence watch. */
  readonly roomPresenceKb: number;
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
  /**
   * Opens subscription `id` of `path` on the connections of the first step, then on the rest:
   * the heap after each (the slope between them is free of what the first ones made once).
   */
  const subscribeAll = async (id: number, path: string, inputOf: (i: number) => unknown) => {
    const heapsAt: number[] = [];
    for (const [from, to] of [
      [0, steps[0]!],
      [steps[0]!, n],
    ] as const) {
      connections
        .slice(from, to)
        .forEach((c, i) =>
          c.onText(
            JSON.stringify({ id, method: 'subscription', params: { path, input: { json: inputOf(from + i) } } }),
          ),
        );
      await until((id - 1) * n + to);
      heapsAt.push(await settle());
    }
    return [heapsAt[0]!, heapsAt[1]!] as const;
  };
  const withTwo = await subscribeAll(2, 'presence.subscribeToPresence', (i) => ({
    userIds: rows.slice(i - (i % 10), i - (i % 10) + 10).map((u) => u.id),
  }));
  const withThree = await subscribeAll(3, 'presence.subscribeToRoom', (i) => ({ roomId: roomIds[Math.floor(i / 10)] }));
  for (const c of connections) c.onClose();
  await close();
  return {
    ...memoryFigures({ steps, base, heaps, subscribed: withTwo }),
    roomPresenceKb: subscriptionSlopeKb(steps, withThree),
  };
}

export async function runChatMemoryBench(): Promise<boolean> {
  const m = await measureChatMemory();
  console.log(
    describeMemory(
      'chat memory, rooms of 10, heap after GC, an authenticated connection with one chat.stream',
      'further subscription (a presence watch of 10)',
      m,
    ) + `, ${m.roomPresenceKb.toFixed(2)} KB per room presence subscription (presence.subscribeToRoom)`,
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
      describeMemory('the same on Redis (a node of a cluster)', 'presence watch of 10', r) +
        `, ${r.roomPresenceKb.toFixed(2)} KB per room presence subscription`,
    );
  } finally {
    redis.stop();
  }
  return true;
}
