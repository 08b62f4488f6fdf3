import type { UserPresence } from '@streampod/protocol';
import { FreezableProxy, Recorder } from '@streampod/framework/testing';
import { itWithDatabase as it, startChatTestServer } from '@streampod/server/testing';
import { describe, expect } from 'vitest';
import { PresenceTracker, type PresenceSource } from './presence-tracker.js';
import { connectDevice, registerUser, testClient, untilRoomView } from './test-users.fixture.js';

describe('PresenceTracker: rooms', () => {
  it("onPresence({ roomId }) and 'room:N' share one subscription: members, changes, departures", async ({
    database,
  }) => {
    await using server = await startChatTestServer({ database, presenceBatchMs: 10 });
    const alice = await registerUser(server.url, 'alice');
    const bob = await registerUser(server.url, 'bob');
    const carol = await registerUser(server.url, 'carol');
    await using a = await connectDevice(server.url, alice.token);
    const room = await a.chat.createRoom({ name: 'team', memberIds: [bob.id, carol.id] });
    const openedRooms = new Recorder<number>();
    const source: PresenceSource = {
      presence: {
        subscribeToPresence: (input) => a.presence.subscribeToPresence(input),
        subscribeToRoom: (input) => {
          openedRooms.push(input.roomId);
          return a.presence.subscribeToRoom(input);
        },
        getRoomPresence: (input) => a.presence.getRoomPresence(input),
      },
    };
    const tracker = new PresenceTracker(source);
    const seen = new Recorder<UserPresence>();
    const left = new Recorder<number>();
    const byString = new Recorder<UserPresence>();
    tracker.onPresence({ roomId: room.id }, (p) => seen.push(p), { onLeft: (id) => left.push(id) });
    tracker.onPresence(`room:${room.id}`, (p) => byString.push(p));
    await seen.until((all) => all.length === 3);
    expect(seen.entries.map((p) => [p.userId, p.status])).toEqual([
      [alice.id, 'online'],
      [bob.id, 'offline'],
      [carol.id, 'offline'],
    ]);
    await byString.until((all) => all.length === 3);
    expect(openedRooms.entries).toEqual([room.id]);

    const b = await connectDevice(server.url, bob.token);
    await seen.until((all) => all.some((p) => p.userId === bob.id && p.status === 'online'));
    expect(await tracker.getOnlineUsers(room.id)).toEqual([
      expect.objectContaining({ userId: alice.id }),
      expect.objectContaining({ userId: bob.id }),
    ]);
    const view = await untilRoomView(tracker, room.id, (v) => v.userCount === 2);
    expect(view).toMatchObject({ memberCount: 3, listed: true, isLoading: false, error: null });

    await b.chat.leaveRoom({ roomId: room.id });
    await left.until((all) => all.includes(bob.id));
    expect((await untilRoomView(tracker, room.id, (v) => v.memberCount === 2)).presences[bob.id]).toBeUndefined();
    await b.close();

    tracker.clearPresenceHandlers();
    expect(tracker.subscriptionCount).toBe(0);
    // Not watched: asked of the server.
    expect((await tracker.getOnlineUsers(room.id)).map((p) => p.userId)).toEqual([alice.id]);
  });

  it("reports FORBIDDEN once the watching user leaves the room; a stranger's watch fails alike", async ({
    database,
  }) => {
    await using server = await startChatTestServer({ database, presenceBatchMs: 10 });
    const alice = await registerUser(server.url, 'alice');
    const bob = await registerUser(server.url, 'bob');
    const eve = await registerUser(server.url, 'eve');
    await using a = await connectDevice(server.url, alice.token);
    await using b = await connectDevice(server.url, bob.token);
    await using e = await connectDevice(server.url, eve.token);
    const room = await a.chat.createRoom({ name: 'pair', memberIds: [bob.id] });
    const tracker = new PresenceTracker(b);
    const errors = new Recorder<string>();
    tracker.onPresence({ roomId: room.id }, () => undefined, { onError: (error) => errors.push(error.message) });
    await untilRoomView(tracker, room.id, (v) => !v.isLoading);
    await b.chat.leaveRoom({ roomId: room.id });
    await errors.until((all) => all.length === 1);
    expect(errors.entries[0]).toMatch(/you left room/);
    expect(tracker.watchRoom(room.id).getSnapshot().error?.message).toMatch(/you left room/);

    const strangers = new PresenceTracker(e);
    const failed = await untilRoomView(strangers, room.id, (v) => v.error !== null);
    expect(failed.error?.message).toMatch(/not a member/);
  });

  it('comes back after a dropped connection with a fresh snapshot', async ({ database }) => {
    await using server = await startChatTestServer({ database, presenceBatchMs: 10 });
    await using proxy = await FreezableProxy.start(Number(new URL(server.url).port));
    const alice = await registerUser(server.url, 'alice');
    const bob = await registerUser(server.url, 'bob');
    let gate = Promise.resolve();
    let openGate: () => void = () => undefined;
    await using a = testClient(`http://127.0.0.1:${proxy.port}`, async () => {
      await gate;
      return alice.token;
    });
    const room = await a.chat.createRoom({ name: 'flaky', memberIds: [bob.id] });
    const tracker = new PresenceTracker(a);
    tracker.onPresence({ roomId: room.id }, () => undefined);
    await untilRoomView(tracker, room.id, (v) => v.userCount === 1);
    gate = new Promise((resolve) => (openGate = resolve));
    proxy.cut();
    // Bob comes online while Alice is cut off.
    await using _b = await connectDevice(server.url, bob.token);
    openGate();
    const back = await untilRoomView(tracker, room.id, (v) => v.userCount === 2);
    expect(back.presences[bob.id]?.status).toBe('online');
    expect(tracker.subscriptionCount).toBe(1);
    tracker.clearPresenceHandlers();
  });
});
