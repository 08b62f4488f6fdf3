import { failureOf, stockHttpClient } from '@streampod/framework/testing';
import type { ChatMessage, RoomPresence } from '@streampod/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../db/index.js';
import { createRoom, openChatStream, send } from '../testing/chat-helpers.js';
import { connectDevice, registerUser, watchPresence, watchRoom } from '../testing/presence-helpers.js';
import { startChatTestServer, type ChatTestServer } from '../testing/test-server.js';
import { busOutage, startTwoNodes } from '../testing/two-nodes.js';

let database: Database;
let server: ChatTestServer;
beforeAll(async () => {
  database = await openDatabase({ dataDir: 'memory' });
  server = await startChatTestServer({
    database,
    presenceBatchMs: 20,
    typingTimeoutMs: 60_000,
    heartbeatIntervalMs: 50,
    presenceTimeoutMs: 500,
  });
});
afterAll(async () => {
  await server.close();
  await database.close();
});

/** Three users and a room of theirs; the first is connected and watches the room. */
async function roomOfThree(on: ChatTestServer = server) {
  const alice = await registerUser(on, 'alice');
  const bob = await registerUser(on, 'bob');
  const carol = await registerUser(on, 'carol');
  const a = await connectDevice(on, alice.token);
  const room = await createRoom(a, { name: 'here', memberIds: [bob.id, carol.id] });
  return { alice, bob, carol, a, room };
}

describe('presence.subscribeToRoom', () => {
  it('starts with a snapshot of every member and the counts, as getRoomPresence answers', async () => {
    const { alice, bob, carol, a, room } = await roomOfThree();
    await using b = await connectDevice(server, bob.token);
    await using _a = a;
    const watch = watchRoom(a, room.id);
    await watch.batches.until((all) => all.length >= 1);
    const [snapshot] = watch.batches.entries;
    expect(snapshot).toMatchObject({ roomId: room.id, snapshot: true, memberCount: 3, onlineCount: 2, listed: true });
    expect(snapshot!.left).toEqual([]);
    expect(snapshot!.updates.map((u) => [u.userId, u.status, u.devices])).toEqual([
      [alice.id, 'online', 1],
      [bob.id, 'online', 1],
      [carol.id, 'offline', 0],
    ]);
    const asked = (await b.query('presence.getRoomPresence', { roomId: room.id })) as RoomPresence;
    expect(asked).toEqual({
      roomId: room.id,
      memberCount: 3,
      onlineCount: 2,
      listed: true,
      members: snapshot!.updates,
    });
  });

  it('tells members coming online, busy, away and offline (with last seen), and moves the online count', async () => {
    const { bob, a, room } = await roomOfThree();
    await using _a = a;
    const watch = watchRoom(a, room.id);
    await watch.until((s) => s.onlineCount === 1);
    const b = await connectDevice(server, bob.token);
    await watch.until((s) => s.members.get(bob.id)?.status === 'online' && s.onlineCount === 2);
    await b.mutation('presence.setStatus', { status: 'busy' });
    await watch.until((s) => s.members.get(bob.id)?.status === 'busy' && s.onlineCount === 2);
    await b.mutation('presence.setStatus', { status: 'away' });
    await watch.until((s) => s.members.get(bob.id)?.status === 'away');
    const before = Date.now();
    await b.close();
    const after = await watch.until((s) => s.members.get(bob.id)?.status === 'offline');
    expect(after.onlineCount).toBe(1);
    expect(after.members.get(bob.id)?.lastSeen?.getTime()).toBeGreaterThanOrEqual(before - 5);
    expect(watch.batches.entries.slice(1).every((batch) => !batch.snapshot && batch.memberCount === 3)).toBe(true);
  });

  it('members added later arrive in updates with their presence', async () => {
    const { a, room } = await roomOfThree();
    await using _a = a;
    const dave = await registerUser(server, 'dave');
    await using _d = await connectDevice(server, dave.token);
    const watch = watchRoom(a, room.id);
    await watch.until((s) => s.memberCount === 3);
    await a.mutation('chat.addMembers', { roomId: room.id, userIds: [dave.id] });
    const after = await watch.until((s) => s.memberCount === 4);
    expect(after.members.get(dave.id)).toMatchObject({ status: 'online', devices: 1 });
    expect(after.onlineCount).toBe(2);
  });

  it('refuses a non-member with FORBIDDEN, for the stream and the query alike', async () => {
    const { a, room } = await roomOfThree();
    await using _a = a;
    const eve = await registerUser(server, 'eve');
    await using e = await connectDevice(server, eve.token);
    const watch = watchRoom(e, room.id);
    await watch.errors.until((all) => all.length === 1);
    expect(watch.errors.entries[0]).toMatch(/^FORBIDDEN: roomId: you are not a member/);
    expect(watch.batches.entries).toEqual([]);
    expect(await failureOf(e.query('presence.getRoomPresence', { roomId: room.id }))).toMatchObject({
      code: 'FORBIDDEN',
    });
    // The connection goes on.
    expect(await e.query('users.me')).toMatchObject({ id: eve.id });
  });

  it('coalesces changes within the window: one entry per member, the latest', async () => {
    await using slow = await startChatTestServer({ presenceBatchMs: 250 });
    const { bob, a, room } = await roomOfThree(slow);
    await using _a = a;
    await using b = await connectDevice(slow, bob.token);
    const watch = watchRoom(a, room.id);
    await watch.until((s) => s.members.get(bob.id)?.status === 'online');
    const seen = watch.batches.entries.length;
    await b.mutation('presence.setStatus', { status: 'busy' });
    await b.mutation('presence.setStatus', { status: 'away' });
    await b.mutation('presence.setStatus', { status: 'busy' });
    await watch.batches.until((all) => all.length > seen);
    const batch = watch.batches.entries[seen]!;
    expect(batch.updates).toEqual([expect.objectContaining({ userId: bob.id, status: 'busy' })]);
  });
});

describe('above ROOM_PRESENCE_LIST_LIMIT: counts only', () => {
  it('lists nobody, and moves the counts at most once per window however many members change', async () => {
    const batchMs = 200;
    await using small = await startChatTestServer({ roomPresenceListLimit: 3, presenceBatchMs: batchMs });
    const owner = await registerUser(small, 'owner');
    const others = await Promise.all([1, 2, 3, 4].map((i) => registerUser(small, `m${i}`)));
    await using o = await connectDevice(small, owner.token);
    const room = await createRoom(o, { name: 'big', memberIds: others.map((u) => u.id) });
    const watch = watchRoom(o, room.id);
    await watch.until((s) => s.memberCount === 5);
    expect(watch.batches.entries[0]).toMatchObject({ snapshot: true, listed: false, updates: [], onlineCount: 1 });
    expect(await o.query('presence.getRoomPresence', { roomId: room.id })).toEqual({
      roomId: room.id,
      memberCount: 5,
      onlineCount: 1,
      listed: false,
      members: [],
    });
    const devices = await Promise.all(others.map((u) => connectDevice(small, u.token)));
    await watch.until((s) => s.onlineCount === 5);
    const changes = watch.batches.entries.slice(1);
    expect(changes.length).toBeLessThan(others.length);
    for (const batch of changes) expect(batch).toMatchObject({ snapshot: false, listed: false, updates: [], left: [] });
    // Timers fire late, never early: batches of one room are at least a window apart.
    for (let i = 1; i < changes.length; i++)
      expect(changes[i]!.at - changes[i - 1]!.at).toBeGreaterThanOrEqual(batchMs - 5);
    // A status that leaves the count alone moves nothing.
    const before = watch.batches.entries.length;
    await devices[0]!.mutation('presence.setStatus', { status: 'busy' });
    await devices[1]!.close();
    await watch.until((s) => s.onlineCount === 4);
    expect(watch.batches.entries.length).toBe(before + 1);
    await Promise.all(devices.map((d) => d.close()));
  });

  it('lists the room again, with a fresh snapshot, once it is back under the limit', async () => {
    await using small = await startChatTestServer({ roomPresenceListLimit: 3, presenceBatchMs: 20 });
    const { alice, bob, carol, a, room } = await roomOfThree(small);
    await using _a = a;
    const dave = await registerUser(small, 'dave');
    await a.mutation('chat.addMembers', { roomId: room.id, userIds: [dave.id] });
    const watch = watchRoom(a, room.id);
    await watch.until((s) => s.memberCount === 4);
    expect(watch.batches.entries[0]).toMatchObject({ listed: false, updates: [] });
    await using d = await connectDevice(small, dave.token);
    await d.mutation('chat.leaveRoom', { roomId: room.id });
    const after = await watch.until((s) => s.memberCount === 3);
    expect(watch.batches.entries.at(-1)).toMatchObject({ snapshot: true, listed: true });
    expect([...after.members.keys()].sort((x, y) => x - y)).toEqual([alice.id, bob.id, carol.id]);
  });
});

describe('chat.leaveRoom', () => {
  it('tells the watchers who left, and ends the leaver’s own room watch with FORBIDDEN', async () => {
    const { carol, a, room } = await roomOfThree();
    await using _a = a;
    await using c = await connectDevice(server, carol.token);
    const watch = watchRoom(a, room.id);
    const own = watchRoom(c, room.id);
    await watch.until((s) => s.members.get(carol.id)?.status === 'online');
    await own.batches.until((all) => all.length === 1);
    await c.mutation('chat.leaveRoom', { roomId: room.id });
    const after = await watch.until((s) => s.memberCount === 2);
    expect(after.members.has(carol.id)).toBe(false);
    expect(after.onlineCount).toBe(1);
    expect(watch.batches.entries.at(-1)!.left).toEqual([carol.id]);
    await own.errors.until((all) => all.length === 1);
    expect(own.errors.entries[0]).toMatch(/^FORBIDDEN: roomId: you left room/);
  });

  it('after a bus outage, tells the watchers on the other node who came online and who left meanwhile, and ends watches the leaver allowed', async () => {
    const db = await openDatabase({ dataDir: 'memory' });
    const outage = busOutage();
    try {
      await using nodes = await startTwoNodes({
        database: db,
        presenceBatchMs: 20,
        wrapBus: (bus, node) => (node === 'b' ? outage.wrap(bus) : bus),
      });
      const { bob, carol, a, room } = await roomOfThree(nodes.b);
      await using _a = a;
      const watch = watchRoom(a, room.id);
      const carolWatch = watchPresence(a, [carol.id]); // only the room allows it
      await watch.until((s) => s.memberCount === 3 && s.onlineCount === 1);
      await carolWatch.batches.until((all) => all.length === 1);
      outage.down = true;
      await using _b = await connectDevice(nodes.a, bob.token);
      await using c = await connectDevice(nodes.a, carol.token);
      await c.mutation('chat.leaveRoom', { roomId: room.id });
      outage.resync();
      const after = await watch.until((s) => s.memberCount === 2 && s.members.get(bob.id)?.status === 'online');
      expect(after.members.has(carol.id)).toBe(false);
      expect(after.onlineCount).toBe(2);
      await carolWatch.errors.until((all) => all.length === 1);
      expect(carolWatch.errors.entries[0]).toMatch(/^FORBIDDEN: /);
    } finally {
      await db.close();
    }
  });

  it('stops the leaver’s streams carrying the room and ends their typing there, at once', async () => {
    const { bob, carol, a, room } = await roomOfThree();
    await using _a = a;
    await using b = await connectDevice(server, bob.token);
    await using c = await connectDevice(server, carol.token);
    const other = await createRoom(a, { name: 'other', memberIds: [carol.id] });
    const carolStream = openChatStream(c);
    const bobStream = openChatStream(b);
    await Promise.all([carolStream.ready(), bobStream.ready()]);
    await c.mutation('chat.sendStreamMessage', { type: 'typing', roomId: room.id, isTyping: true });
    await bobStream.untilEvent((e) => e.type === 'typing' && e.isTyping && e.senderId === carol.id);
    await c.mutation('chat.leaveRoom', { roomId: room.id });
    await bobStream.untilEvent((e) => e.type === 'typing' && !e.isTyping && e.senderId === carol.id);
    await send(a, room.id, 'after carol left');
    await send(a, other.id, 'marker');
    await carolStream.untilMessages(1);
    expect(carolStream.messages()).toEqual(['marker']);
    expect(await failureOf(send(c, room.id, 'still here?'))).toMatchObject({ code: 'FORBIDDEN' });
    expect(await failureOf(c.query('chat.history', { roomId: room.id }))).toMatchObject({ code: 'FORBIDDEN' });
    const rooms = (await c.query('chat.listRooms')) as { id: number }[];
    expect(rooms.map((r) => r.id)).toEqual([other.id]);
    // Leaving twice: not a member any more.
    expect(await failureOf(c.mutation('chat.leaveRoom', { roomId: room.id }))).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('ends a presence watch that only the room allowed, on both sides; one another room allows goes on', async () => {
    const { alice, bob, carol, a, room } = await roomOfThree();
    await using _a = a;
    await using b = await connectDevice(server, bob.token);
    await using c = await connectDevice(server, carol.token);
    // Alice also shares another room with carol; bob shares only `room` with her.
    await createRoom(a, { name: 'also', memberIds: [carol.id] });
    const carolWatchesBob = watchPresence(c, [bob.id]);
    const bobWatchesCarol = watchPresence(b, [carol.id]);
    const aliceWatchesCarol = watchPresence(a, [carol.id]);
    for (const w of [carolWatchesBob, bobWatchesCarol, aliceWatchesCarol]) await w.batches.until((x) => x.length === 1);
    await c.mutation('chat.leaveRoom', { roomId: room.id });
    await carolWatchesBob.errors.until((x) => x.length === 1);
    await bobWatchesCarol.errors.until((x) => x.length === 1);
    expect(carolWatchesBob.errors.entries[0]).toMatch(/^FORBIDDEN: userIds: you share no room with/);
    expect(bobWatchesCarol.errors.entries[0]).toMatch(/^FORBIDDEN/);
    // Alice still shares a room with carol: her watch goes on and hears carol leave.
    await c.close();
    await aliceWatchesCarol.until(carol.id, (p) => p.status === 'offline');
    expect(aliceWatchesCarol.errors.entries).toEqual([]);
    expect(alice.id).toBeGreaterThan(0);
  });
});

describe('what a client reads back after a reload: users, unread counts, receipts, reactions', () => {
  it('finds users by username to invite, and names room mates only', async () => {
    const { alice, bob, a, room } = await roomOfThree();
    await using _a = a;
    const stranger = await registerUser(server, 'stranger');
    const bobName = ((await stockHttpClient(server.url, bob.token).query('users.me')) as { username: string }).username;
    const found = (await a.query('users.find', { usernames: [bobName.toUpperCase(), 'nobody_at_all'] })) as {
      id: number;
    }[];
    expect(found.map((u) => u.id)).toEqual([bob.id]);
    const mates = (await a.query('users.get', { userIds: [bob.id, alice.id] })) as { id: number }[];
    expect(mates.map((u) => u.id)).toEqual([alice.id, bob.id].sort((x, y) => x - y));
    expect(await failureOf(a.query('users.get', { userIds: [stranger.id] }))).toMatchObject({ code: 'FORBIDDEN' });
    expect(room.memberIds).toContain(bob.id);
  });

  it('counts what others sent after the read cursor', async () => {
    const { bob, a, room } = await roomOfThree();
    await using _a = a;
    await using b = await connectDevice(server, bob.token);
    await send(a, room.id, 'one');
    const two = await send(a, room.id, 'two');
    await send(a, room.id, 'three');
    await send(b, room.id, 'mine');
    const unread = async () =>
      (
        (await b.query('chat.listRooms')) as { id: number; unreadCount?: number; lastReadMessageId?: number | null }[]
      ).find((r) => r.id === room.id);
    expect(await unread()).toMatchObject({ unreadCount: 3, lastReadMessageId: null });
    await b.mutation('chat.markRead', { roomId: room.id, messageId: two.id });
    expect(await unread()).toMatchObject({ unreadCount: 1, lastReadMessageId: two.id });
  });

  it('gives every member’s read and delivered cursors, and each history message’s reactions', async () => {
    const { alice, bob, a, room } = await roomOfThree();
    await using _a = a;
    await using b = await connectDevice(server, bob.token);
    const first = await send(a, room.id, 'one');
    const second = await send(a, room.id, 'two');
    await b.mutation('chat.markRead', { roomId: room.id, messageId: first.id });
    await b.mutation('chat.markDelivered', { roomId: room.id, messageId: second.id });
    await b.mutation('chat.react', { messageId: first.id, emoji: '👍' });
    await a.mutation('chat.react', { messageId: first.id, emoji: '👍' });
    await a.mutation('chat.react', { messageId: first.id, emoji: '🎉' });
    expect(await a.query('chat.receipts', { roomId: room.id })).toEqual([
      { userId: bob.id, lastReadMessageId: first.id, lastDeliveredMessageId: second.id },
    ]);
    const history = (await a.query('chat.history', { roomId: room.id })) as ChatMessage[];
    expect(history.map((m) => [m.content, m.reactions])).toEqual([
      [
        'one',
        [
          { emoji: '👍', userIds: [bob.id, alice.id] },
          { emoji: '🎉', userIds: [alice.id] },
        ],
      ],
      ['two', undefined],
    ]);
    const eve = await registerUser(server, 'eve');
    await using e = await connectDevice(server, eve.token);
    expect(await failureOf(e.query('chat.receipts', { roomId: room.id }))).toMatchObject({ code: 'FORBIDDEN' });
  });
});
