import { failureOf } from '@streampod/framework/testing';
import type { ChatMessage } from '@streampod/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePosition } from '../chat/stream-position.js';
import { openDatabase, type Database } from '../db/index.js';
import { createRoom, openChatStream, send } from '../testing/chat-helpers.js';
import { connectDevice, registerUser } from '../testing/presence-helpers.js';
import { createTestPostgres } from '../testing/postgres.js';
import { startChatTestServer, type ChatTestServer } from '../testing/test-server.js';

let database: Database;
let server: ChatTestServer;

/** The whole suite runs on the embedded database and on PostgreSQL. */
const engines: [string, () => Promise<Database>][] = [
  ['the embedded database', () => openDatabase({ dataDir: 'memory' })],
  [
    'PostgreSQL',
    async () => {
      const pg = await createTestPostgres();
      const db = await openDatabase({ url: pg.url });
      return { ...db, close: async () => (await db.close(), await pg.drop()) };
    },
  ],
];

const failure = failureOf;

describe.each(engines)('chat on %s', (_name, open) => {
  beforeAll(async () => {
    database = await open();
    server = await startChatTestServer({ database, typingTimeoutMs: 200 });
  });
  afterAll(async () => {
    await server.close();
    await database.close();
  });

  async function trio() {
    const ann = await registerUser(server, 'ann');
    const ben = await registerUser(server, 'ben');
    const cyd = await registerUser(server, 'cyd');
    const a = await connectDevice(server, ann.token);
    const b = await connectDevice(server, ben.token);
    const c = await connectDevice(server, cyd.token);
    const room = await createRoom(a, { name: 'general', memberIds: [ben.id] });
    return {
      ann,
      ben,
      cyd,
      a,
      b,
      c,
      room,
      [Symbol.asyncDispose]: async () => {
        await Promise.all([a.close(), b.close(), c.close()]);
      },
    };
  }

  describe('rooms and messages', () => {
    it('stores a message before broadcasting it, once, with the stream position as the tracked id', async () => {
      await using t = await trio();
      expect(t.room).toMatchObject({ name: 'general', memberIds: [t.ann.id, t.ben.id].sort((x, y) => x - y) });
      const stream = openChatStream(t.b);
      await stream.ready();
      const sent = await send(t.a, t.room.id, 'hello');
      await stream.untilMessages(1);
      const [entry] = stream.events.entries;
      // The room's first message: the position lists the room at seq 1.
      expect(entry?.id).toMatch(/^c[0-9a-z]+(_[0-9a-z]+\.[0-9a-z]+)*$/);
      expect(decodePosition(entry!.id)?.rooms.get(t.room.id)).toBe(1);
      expect(entry?.event).toMatchObject({
        type: 'message',
        conversationId: t.room.id,
        messageId: sent.id,
        senderId: t.ann.id,
        content: 'hello',
        messageType: 'text',
        clientMessageId: sent.clientMessageId,
      });
      expect(await t.b.query('chat.history', { roomId: t.room.id })).toEqual([sent]);
    });

    it('returns the stored message for a repeated clientMessageId and broadcasts it only once', async () => {
      await using t = await trio();
      const stream = openChatStream(t.b);
      await stream.ready();
      const input = { roomId: t.room.id, content: 'once', clientMessageId: 'same-id' };
      const first = (await t.a.mutation('chat.sendMessage', input)) as ChatMessage;
      const again = (await t.a.mutation('chat.sendMessage', input)) as ChatMessage;
      expect(again).toEqual(first);
      await send(t.a, t.room.id, 'sentinel');
      await stream.untilMessages(2);
      expect(stream.messages()).toEqual(['once', 'sentinel']);
    });

    it('keeps everything of a room from non-members: FORBIDDEN, and no events', async () => {
      await using t = await trio();
      const outsider = openChatStream(t.c);
      await outsider.ready();
      const roomId = t.room.id;
      const forbidden = { code: 'FORBIDDEN', message: `roomId: you are not a member of room ${roomId}` };
      expect(await failure(t.c.query('chat.history', { roomId }))).toEqual(forbidden);
      expect(await failure(t.c.mutation('chat.sendMessage', { roomId, content: 'x', clientMessageId: 'x' }))).toEqual(
        forbidden,
      );
      expect(await failure(t.c.mutation('chat.markRead', { roomId, messageId: 1 }))).toEqual(forbidden);
      expect(await failure(t.c.mutation('chat.addMembers', { roomId, userIds: [t.cyd.id] }))).toEqual(forbidden);
      expect(await failure(t.c.mutation('chat.sendStreamMessage', { type: 'typing', roomId, isTyping: true }))).toEqual(
        forbidden,
      );
      expect(
        await failure(t.c.mutation('chat.sendStreamMessage', { type: 'subscription', roomId, subscribe: true })),
      ).toEqual(forbidden);
      const sent = await send(t.a, roomId, 'members only');
      expect(await failure(t.c.mutation('chat.react', { messageId: sent.id, emoji: '👍' }))).toMatchObject({
        code: 'FORBIDDEN',
      });
      expect(await t.c.query('chat.listRooms')).toEqual([]);
      // A room of Cyd's own, to prove the outsider's stream is live and saw nothing else.
      const own = await createRoom(t.c, { name: 'mine', memberIds: [] });
      await send(t.c, own.id, 'own');
      await outsider.untilMessages(1);
      expect(outsider.messages()).toEqual(['own']);
    });

    it('a member added later starts receiving without reconnecting', async () => {
      await using t = await trio();
      const stream = openChatStream(t.c);
      await stream.ready();
      await t.a.mutation('chat.addMembers', { roomId: t.room.id, userIds: [t.cyd.id] });
      await send(t.a, t.room.id, 'welcome cyd');
      await stream.untilMessages(1);
      expect(stream.messages()).toEqual(['welcome cyd']);
    });

    it('mutes a room for one stream only', async () => {
      await using t = await trio();
      const muted = openChatStream(t.b);
      await muted.ready();
      await t.b.mutation('chat.sendStreamMessage', { type: 'subscription', roomId: t.room.id, subscribe: false });
      const b2 = await connectDevice(server, t.ben.token);
      const other = openChatStream(b2);
      await other.ready();
      await send(t.a, t.room.id, 'while muted');
      await other.untilMessages(1);
      await t.b.mutation('chat.sendStreamMessage', { type: 'subscription', roomId: t.room.id, subscribe: true });
      await send(t.a, t.room.id, 'unmuted');
      await muted.untilMessages(1);
      expect(muted.messages()).toEqual(['unmuted']);
      await b2.close();
    });
  });

  describe('receipts and reactions', () => {
    it('broadcasts read and delivered to the room; cursors only move forward', async () => {
      await using t = await trio();
      const stream = openChatStream(t.a);
      await stream.ready();
      const m1 = await send(t.a, t.room.id, 'one');
      const m2 = await send(t.a, t.room.id, 'two');
      await t.b.mutation('chat.markDelivered', { roomId: t.room.id, messageId: m2.id });
      await t.b.mutation('chat.markRead', { roomId: t.room.id, messageId: m2.id });
      await t.b.mutation('chat.markRead', { roomId: t.room.id, messageId: m1.id }); // backwards: no event
      await t.b.mutation('presence.heartbeat');
      await stream.untilEvent((e) => e.type === 'read');
      await send(t.a, t.room.id, 'sentinel');
      await stream.untilMessages(3);
      const receipts = stream.events.entries
        .map((e) => e.event)
        .filter((e) => e.type === 'read' || e.type === 'delivered');
      expect(receipts).toEqual([
        expect.objectContaining({ type: 'delivered', senderId: t.ben.id, messageId: m2.id }),
        expect.objectContaining({ type: 'read', senderId: t.ben.id, messageId: m2.id }),
      ]);
    });

    it('broadcasts reactions, added and removed', async () => {
      await using t = await trio();
      const stream = openChatStream(t.a);
      await stream.ready();
      const m = await send(t.a, t.room.id, 'react to me');
      await t.b.mutation('chat.react', { messageId: m.id, emoji: '🎉' });
      await t.b.mutation('chat.react', { messageId: m.id, emoji: '🎉', removed: true });
      await stream.events.until((all) => all.filter((e) => e.event.type === 'reaction').length === 2);
      const reactions = stream.events.entries.flatMap((e) => (e.event.type === 'reaction' ? [e.event] : []));
      expect(reactions.map((r) => [r.senderId, r.emoji, r.removed])).toEqual([
        [t.ben.id, '🎉', false],
        [t.ben.id, '🎉', true],
      ]);
    });
  });

  describe('typing', () => {
    it('starts once, reaches others but not the typer, and ends by itself after the timeout', async () => {
      await using t = await trio();
      const ann = openChatStream(t.a);
      const ben = openChatStream(t.b);
      await Promise.all([ann.ready(), ben.ready()]);
      for (let i = 0; i < 3; i++) {
        await t.a.mutation('chat.sendStreamMessage', { type: 'typing', roomId: t.room.id, isTyping: true });
      }
      await ben.untilEvent((e) => e.type === 'typing' && !e.isTyping);
      const typing = ben.events.entries.flatMap((e) => (e.event.type === 'typing' ? [e.event] : []));
      expect(typing.map((e) => [e.senderId, e.isTyping])).toEqual([
        [t.ann.id, true],
        [t.ann.id, false],
      ]);
      await send(t.b, t.room.id, 'sentinel');
      await ann.untilMessages(1);
      expect(ann.events.entries.some((e) => e.event.type === 'typing')).toBe(false);
    });

    it('ends when the typer sends a message in the room', async () => {
      await using t = await trio();
      const ben = openChatStream(t.b);
      await ben.ready();
      const annStream = openChatStream(t.a);
      await annStream.ready();
      await t.a.mutation('chat.sendStreamMessage', { type: 'typing', roomId: t.room.id, isTyping: true });
      await ben.untilEvent((e) => e.type === 'typing' && e.isTyping);
      await send(t.a, t.room.id, 'done typing');
      await ben.untilEvent((e) => e.type === 'typing' && !e.isTyping);
    });
  });

  describe('catch-up', () => {
    it('replays every missed message in order with isCatchup, then goes live', async () => {
      await using t = await trio();
      const first = openChatStream(t.b);
      await first.ready();
      await send(t.a, t.room.id, 'seen');
      await first.untilMessages(1);
      const lastEventId = first.lastId()!;
      first.stop();
      for (const text of ['missed 1', 'missed 2', 'missed 3']) await send(t.a, t.room.id, text);
      const resumed = openChatStream(t.b, { lastEventId });
      await resumed.untilMessages(3);
      await send(t.a, t.room.id, 'live');
      await resumed.untilMessages(4);
      expect(resumed.messages()).toEqual(['missed 1', 'missed 2', 'missed 3', 'live']);
      const flags = resumed.events.entries.flatMap((e) =>
        e.event.type === 'message' ? [e.event.isCatchup ?? false] : [],
      );
      expect(flags).toEqual([true, true, true, false]);
    });

    it('resumes from an id of an ephemeral event (typing) without losing what followed', async () => {
      await using t = await trio();
      const first = openChatStream(t.b);
      const typist = openChatStream(t.a);
      await Promise.all([first.ready(), typist.ready()]);
      await t.a.mutation('chat.sendStreamMessage', { type: 'typing', roomId: t.room.id, isTyping: true });
      await first.untilEvent((e) => e.type === 'typing');
      const lastEventId = first.lastId()!;
      expect(decodePosition(lastEventId)).toBeDefined();
      first.stop();
      await send(t.a, t.room.id, 'missed');
      const resumed = openChatStream(t.b, { lastEventId });
      await resumed.untilMessages(1);
      expect(resumed.messages()).toEqual(['missed']);
    });

    it('refuses a lastEventId it never sent, naming it', async () => {
      await using t = await trio();
      const stream = openChatStream(t.b, { lastEventId: 'abc' });
      await stream.errors.until((e) => e.length === 1);
      expect(stream.errors.entries).toEqual(['BAD_REQUEST: lastEventId: "abc" is not an id this stream sent']);
    });

    it('tells members of a room when a member changes status', async () => {
      await using t = await trio();
      const stream = openChatStream(t.a);
      await stream.ready();
      // A second device changes the device count, not the status: the room hears nothing of it.
      await using _second = await connectDevice(server, t.ben.token);
      await t.b.mutation('presence.setStatus', { status: 'busy' });
      await stream.untilEvent((e) => e.type === 'presence' && e.senderId === t.ben.id && e.presenceStatus === 'busy');
      const aboutBen = stream.events.entries.filter(
        (e) => e.event.type === 'presence' && e.event.senderId === t.ben.id,
      );
      expect(aboutBen).toHaveLength(1);
    });
  });

  describe('a gap too old to replay', () => {
    it('replays the latest messages and flags the first with gapBefore, so the client reloads history', async () => {
      await using local = await startChatTestServer({ database, maxCatchUp: 3 });
      const ann = await registerUser(local, 'ann');
      const ben = await registerUser(local, 'ben');
      await using a = await connectDevice(local, ann.token);
      await using b = await connectDevice(local, ben.token);
      const room = await createRoom(a, { name: 'busy', memberIds: [ben.id] });
      const first = openChatStream(b);
      await first.ready();
      await send(a, room.id, 'seen');
      await first.untilMessages(1);
      const lastEventId = first.lastId()!;
      first.stop();
      for (let i = 1; i <= 5; i++) await send(a, room.id, `m${i}`);
      const resumed = openChatStream(b, { lastEventId });
      await resumed.untilMessages(3);
      expect(resumed.messages()).toEqual(['m3', 'm4', 'm5']);
      const flags = resumed.events.entries.flatMap((e) =>
        e.event.type === 'message' ? [e.event.gapBefore ?? false] : [],
      );
      expect(flags).toEqual([true, false, false]);
    });
  });
});
