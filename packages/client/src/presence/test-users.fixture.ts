import type { UserPresence } from '@streampod/protocol';
import type { ChatTestServerOptions } from '@streampod/server/testing';
import { WebSocket } from 'ws';
import { createStreampodClient, type StreampodClient, type StreampodClientOptions } from '../client.js';
import type { PresenceTracker } from './presence-tracker.js';
import type { RoomPresenceView } from './watched-room.js';

// Helpers shared by the presence, React and Vue tests (`.fixture.ts`: test helpers, kept out of the build).

/** Everybody shares a room with everybody: rooms are not the subject here. */
export const everyoneShares: NonNullable<ChatTestServerOptions['membership']> = {
  sharedWith: (_viewer, userIds) => Promise.resolve(new Set(userIds)),
};

let seq = 0;

/** Registers a user; returns their id and token. */
export async function registerUser(url: string, name: string): Promise<{ id: number; token: string }> {
  // Over the WebSocket: happy-dom's fetch would refuse the cross-origin request.
  const anonymous = createStreampodClient({ url, WebSocket });
  try {
    const { token, user } = await anonymous.auth.register({ username: `${name}${++seq}`, password: 'a long password' });
    return { id: user.id, token };
  } finally {
    await anonymous.close();
  }
}

export type TestClient = StreampodClient & AsyncDisposable;

/** A client for `token` (not connected until its first call), closed by `await using`. */
export function testClient(url: string, token: StreampodClientOptions['token']): TestClient {
  const client = createStreampodClient({
    url,
    token,
    WebSocket,
    reconnect: { initialDelayMs: 10, maxDelayMs: 100 },
    keepAlive: { intervalMs: 200, pongTimeoutMs: 200 },
  });
  return Object.assign(client, { [Symbol.asyncDispose]: () => client.close() });
}

/** A device of the user: a client whose WebSocket is open, so the user counts as online. */
export async function connectDevice(url: string, token: string): Promise<TestClient> {
  const client = testClient(url, token);
  await client.users.me();
  return client;
}

/** Resolves with `userId`'s presence in the tracker once `test` holds for it. */
export function untilPresence(
  tracker: PresenceTracker,
  opts: { userIds: readonly number[]; userId: number; test: (presence: UserPresence) => boolean },
): Promise<UserPresence> {
  const watch = tracker.watch(opts.userIds);
  return new Promise((resolve) => {
    const check = () => {
      const presence = watch.getSnapshot().presences[opts.userId];
      if (presence === undefined || !opts.test(presence)) return;
      stop();
      resolve(presence);
    };
    const stop = watch.subscribe(check);
    check();
  });
}

/** Resolves with a room's view in the tracker once `test` holds for it. */
export function untilRoomView(
  tracker: PresenceTracker,
  roomId: number,
  test: (view: RoomPresenceView) => boolean,
): Promise<RoomPresenceView> {
  const watch = tracker.watchRoom(roomId);
  return new Promise((resolve) => {
    const check = () => {
      const view = watch.getSnapshot();
      if (!test(view)) return;
      stop();
      resolve(view);
    };
    const stop = watch.subscribe(check);
    check();
  });
}
