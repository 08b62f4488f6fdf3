import type { UserPresence } from '@streampod/protocol';
import { FreezableProxy, Recorder } from '@streampod/framework/testing';
import { itWithDatabase as it, startChatTestServer } from '@streampod/server/testing';
import { TRPCClientError } from '@trpc/client';
import type { AnyTRPCRouter } from '@trpc/server';
import { describe, expect, vi } from 'vitest';
import { PresenceTracker, type PresenceSource } from './presence-tracker.js';
import { connectDevice, everyoneShares, registerUser, testClient, untilPresence } from './test-users.fixture.js';

/** A presence source that records every server subscription it opens. */
function countingSource(client: PresenceSource) {
  const opened = new Recorder<readonly number[]>();
  const openedRooms = new Recorder<number>();
  const source: PresenceSource = {
    presence: {
      subscribeToPresence: (input) => {
        opened.push(input.userIds);
        return client.presence.subscribeToPresence(input);
      },
      subscribeToRoom: (input) => {
        openedRooms.push(input.roomId);
        return client.presence.subscribeToRoom(input);
      },
      getRoomPresence: (input) => client.presence.getRoomPresence(input),
    },
  };
  return { source, opened, openedRooms };
}

describe('PresenceTracker', () => {
  it('gives a handler the snapshot, then every change of the watched user', async ({ database }) => {
    await using server = await startChatTestServer({ database, membership: everyoneShares, presenceBatchMs: 10 });
    const alice = await registerUser(server.url, 'alice');
    const bob = await registerUser(server.url, 'bob');
    await using a = await connectDevice(server.url, alice.token);
    const tracker = new PresenceTracker(a);
    const seen = new Recorder<UserPresence>();
    const off = tracker.onPresence([bob.id], (p) => seen.push(p));

    await seen.until((all) => all.length === 1);
    expect(seen.entries[0]).toEqual({ userId: bob.id, status: 'offline', lastSeen: null, devices: 0 });

    const phone = await connectDevice(server.url, bob.token);
    await seen.until((all) => all.at(-1)?.devices === 1);
    expect(tracker.get(bob.id)).toMatchObject({ status: 'online', devices: 1 });

    const laptop = await connectDevice(server.url, bob.token);
    await seen.until((all) => all.at(-1)?.devices === 2);
    expect(tracker.list()).toEqual([{ userId: bob.id, status: 'online', lastSeen: null, devices: 2 }]);

    const before = Date.now();
    await phone.close();
    await laptop.close();
    await seen.until((all) => all.at(-1)?.status === 'offline');
    const offline = tracker.get(bob.id);
    expect(offline).toMatchObject({ status: 'offline', devices: 0 });
    expect(offline?.lastSeen).toBeInstanceOf(Date);
    expect(offline?.lastSeen?.getTime()).toBeGreaterThanOrEqual(before - 1);
    expect(seen.entries.every((p) => p.userId === bob.id)).toBe(true);
    off();
  });

  it('tells a handler nothing about ids it did not ask for, even when another watch has them', async ({ database }) => {
    await using server = await startChatTestServer({ database, membership: everyoneShares, presenceBatchMs: 10 });
    const alice = await registerUser(server.url, 'alice');
    const bob = await registerUser(server.url, 'bob');
    const carol = await registerUser(server.url, 'carol');
    await using a = await connectDevice(server.url, alice.token);
    const tracker = new PresenceTracker(a);
    const both = new Recorder<UserPresence>();
    const onlyBob = new Recorder<UserPresence>();
    tracker.onPresence([bob.id, carol.id], (p) => both.push(p));
    tracker.onPresence([bob.id], (p) => onlyBob.push(p));

    // Carol first: by the time Bob's change reaches the Bob-only handler, hers has been sent.
    await using _carol = await connectDevice(server.url, carol.token);
    await both.until((all) => all.some((p) => p.userId === carol.id && p.status === 'online'));
    await using _bob = await connectDevice(server.url, bob.token);
    await onlyBob.until((all) => all.some((p) => p.status === 'online'));
    await both.until((all) => all.some((p) => p.userId === bob.id && p.status === 'online'));

    expect(onlyBob.entries.map((p) => p.userId)).toEqual([bob.id, bob.id]);
    expect(tracker.get(carol.id)).toMatchObject({ status: 'online' });
    expect(tracker.subscriptionCount).toBe(2);
    tracker.clearPresenceHandlers();
    expect(tracker.subscriptionCount).toBe(0);
    expect(tracker.list()).toEqual([]);
  });

  it('shares one server subscription per id set and stops it when the last handler leaves', async ({ database }) => {
    await using server = await startChatTestServer({ database, membership: everyoneShares, presenceBatchMs: 10 });
    const alice = await registerUser(server.url, 'alice');
    const bob = await registerUser(server.url, 'bob');
    await using a = await connectDevice(server.url, alice.token);
    const { source, opened } = countingSource(a);
    const tracker = new PresenceTracker(source);
    const first = new Recorder<UserPresence>();
    const second = new Recorder<UserPresence>();
    const offFirst = tracker.onPresence([bob.id, alice.id], (p) => first.push(p));
    await first.until((all) => all.length === 2);

    // Same ids in another order, with a duplicate: the same set. It joins with the current state.
    const secondHandler = (p: UserPresence) => second.push(p);
    tracker.onPresence([alice.id, bob.id, bob.id], secondHandler);
    await second.until((all) => all.length === 2);
    expect(second.entries.map((p) => [p.userId, p.status]).sort()).toEqual(
      [
        [alice.id, 'online'],
        [bob.id, 'offline'],
      ].sort(),
    );
    expect(opened.entries).toEqual([[alice.id, bob.id]]);
    expect(tracker.subscriptionCount).toBe(1);

    // A change reaches both handlers from the one subscription.
    await using _bob = await connectDevice(server.url, bob.token);
    await first.until((all) => all.at(-1)?.status === 'online');
    await second.until((all) => all.at(-1)?.status === 'online');

    offFirst();
    expect(tracker.subscriptionCount).toBe(1);
    tracker.offPresence(secondHandler);
    expect(tracker.subscriptionCount).toBe(0);
    expect(tracker.get(bob.id)).toBeUndefined();
    // The server lets go of the watch too (it hears the stop over the socket).
    await vi.waitFor(() => expect(server.services.presence.watchedUserCount).toBe(0));
    expect(opened.entries).toHaveLength(1);
  });

  it('reports FORBIDDEN to the handler, the tracker and the view when no room is shared', async ({ database }) => {
    await using server = await startChatTestServer({ database, presenceBatchMs: 10 });
    const alice = await registerUser(server.url, 'alice');
    const bob = await registerUser(server.url, 'bob');
    await using a = await connectDevice(server.url, alice.token);
    const trackerErrors = new Recorder<{ error: Error; userIds: readonly number[] }>();
    const tracker = new PresenceTracker(a, { onError: (error, userIds) => trackerErrors.push({ error, userIds }) });
    const handlerErrors = new Recorder<Error>();
    const seen = new Recorder<UserPresence>();
    const off = tracker.onPresence([bob.id], (p) => seen.push(p), { onError: (e) => handlerErrors.push(e) });

    await handlerErrors.until((all) => all.length === 1);
    const error = handlerErrors.entries[0];
    expect(error).toBeInstanceOf(TRPCClientError);
    expect((error as TRPCClientError<AnyTRPCRouter>).data).toMatchObject({ code: 'FORBIDDEN' });
    expect(error?.message).toBe(`userIds: you share no room with ${bob.id}`);
    expect(trackerErrors.entries).toEqual([{ error, userIds: [bob.id] }]);
    expect(tracker.watch([bob.id]).getSnapshot()).toEqual({ presences: {}, isLoading: false, error });
    expect(tracker.subscriptionCount).toBe(0);
    expect(seen.entries).toEqual([]);

    // A handler joining the failed set hears the error too; watching yourself is allowed.
    const late = new Recorder<Error>();
    tracker.onPresence([bob.id], () => undefined, { onError: (e) => late.push(e) });
    await late.until((all) => all[0] === error);
    const self = new Recorder<UserPresence>();
    tracker.onPresence([alice.id], (p) => self.push(p));
    await self.until((all) => all[0]?.status === 'online');
    off();
    tracker.clearPresenceHandlers();
  });

  it('lets the fresh snapshot after a reconnect replace what was missed while disconnected', async ({ database }) => {
    await using server = await startChatTestServer({ database, membership: everyoneShares, presenceBatchMs: 10 });
    await using proxy = await FreezableProxy.start(Number(new URL(server.url).port));
    const alice = await registerUser(server.url, 'alice');
    const bob = await registerUser(server.url, 'bob');
    const carol = await registerUser(server.url, 'carol');
    // Alice's reconnect waits for the gate (the token is read at each connect).
    let gate = Promise.resolve();
    let openGate: () => void = () => undefined;
    await using a = testClient(`http://127.0.0.1:${proxy.port}`, async () => {
      await gate;
      return alice.token;
    });
    await a.users.me();
    const tracker = new PresenceTracker(a);
    const seen = new Recorder<UserPresence>();
    tracker.onPresence([bob.id], (p) => seen.push(p));
    const phone = await connectDevice(server.url, bob.token);
    await seen.until((all) => all.at(-1)?.status === 'online');

    // Carol sees Bob leave while Alice is cut off.
    await using c = await connectDevice(server.url, carol.token);
    const carolsTracker = new PresenceTracker(c);
    gate = new Promise((resolve) => (openGate = resolve));
    proxy.cut();
    await phone.close();
    await untilPresence(carolsTracker, { userIds: [bob.id], userId: bob.id, test: (p) => p.status === 'offline' });
    expect(tracker.get(bob.id)?.status).toBe('online');

    openGate();
    await seen.until((all) => all.at(-1)?.status === 'offline');
    expect(tracker.get(bob.id)).toMatchObject({ status: 'offline', devices: 0 });
    expect(tracker.watch([bob.id]).getSnapshot().presences[bob.id]?.status).toBe('offline');
    tracker.clearPresenceHandlers();
  });
});
