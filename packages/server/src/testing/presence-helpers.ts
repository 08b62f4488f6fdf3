import { Recorder, stockHttpClient, stockWsClient, type StockWsClient } from '@streampod/framework/testing';
import type { PresenceBatch, RoomPresenceBatch, UserPresence } from '@streampod/protocol';
import type { TRPCClientError } from '@trpc/client';
import type { AnyTRPCRouter } from '@trpc/server';
import type { Membership } from '../presence/membership.js';
/** Where a server listens: a `ChatTestServer`, or a server process. */
export interface ServerAddress {
  /** `http://host:port` */
  readonly url: string;
  /** `ws://host:port/trpc` */
  readonly wsUrl: string;
}

/** A membership where everybody shares a room with everybody (rooms are not the subject). */
export const everyoneShares: Membership = {
  sharedWith: (_viewer, userIds) => Promise.resolve(new Set(userIds)),
};

let seq = 0;

/** Registers a user over HTTP; returns their id and token. */
export async function registerUser(server: ServerAddress, name = 'user'): Promise<{ id: number; token: string }> {
  const username = `${name}${++seq}_${process.pid}`;
  const result = (await stockHttpClient(server.url).mutation('auth.register', {
    username,
    password: 'a long password',
  })) as { token: string; user: { id: number } };
  return { id: result.user.id, token: result.token };
}

/** A device: one authenticated WebSocket, open once a call went through. */
export async function connectDevice(server: ServerAddress, token: string): Promise<StockWsClient> {
  const client = stockWsClient(server.wsUrl, token);
  await client.query('users.me');
  return client;
}

/** What one `presence.subscribeToPresence` subscriber receives. */
export function watchPresence(client: StockWsClient, userIds: number[]) {
  const batches = new Recorder<PresenceBatch>();
  const errors = new Recorder<string>();
  const sub = client.subscription(
    'presence.subscribeToPresence',
    { userIds },
    {
      onData: (batch) => batches.push(batch as PresenceBatch),
      onError: (error: TRPCClientError<AnyTRPCRouter>) => errors.push(`${error.data?.code ?? '?'}: ${error.message}`),
    },
  );
  /** Resolves with the latest state seen for `userId` once `test` holds for it. */
  const until = async (userId: number, test: (p: UserPresence) => boolean): Promise<UserPresence> => {
    let found: UserPresence | undefined;
    await batches.until((all) => {
      const last = all.flatMap((b) => b.updates.filter((u) => u.userId === userId)).at(-1);
      found = last !== undefined && test(last) ? last : undefined;
      return found !== undefined;
    });
    return found!;
  };
  return { batches, errors, until, stop: () => sub.unsubscribe() };
}

/** What one `presence.subscribeToRoom` subscriber receives, with each batch's arrival time. */
export function watchRoom(client: StockWsClient, roomId: number) {
  const batches = new Recorder<RoomPresenceBatch & { at: number }>();
  const errors = new Recorder<string>();
  const sub = client.subscription(
    'presence.subscribeToRoom',
    { roomId },
    {
      onData: (batch) => batches.push({ ...(batch as RoomPresenceBatch), at: performance.now() }),
      onError: (error: TRPCClientError<AnyTRPCRouter>) => errors.push(`${error.data?.code ?? '?'}: ${error.message}`),
    },
  );
  /** The room as the batches so far tell it: each member's latest presence, and the counts. */
  const state = () => {
    const members = new Map<number, UserPresence>();
    let counts = { memberCount: -1, onlineCount: -1 };
    for (const b of batches.entries) {
      if (b.snapshot) members.clear();
      for (const u of b.updates) members.set(u.userId, u);
      for (const id of b.left) members.delete(id);
      counts = { memberCount: b.memberCount, onlineCount: b.onlineCount };
    }
    return { members, ...counts };
  };
  /** Resolves with the state once `test` holds for it. */
  const until = async (test: (s: ReturnType<typeof state>) => boolean) => {
    await batches.until(() => test(state()));
    return state();
  };
  return { batches, errors, state, until, stop: () => sub.unsubscribe() };
}
