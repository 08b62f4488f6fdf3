import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { Database } from '../db/database.js';
import { chatDatabase, NO_SUCH_ID, uniqueName } from './chat-db.js';
import { ChatInputError } from '../chat/message-repository.js';

/**
 * MessageRepository behaviour every engine must share. `postgresUrl` (PostgreSQL only) lets
 * a case hold a room's lock from a second connection, as a concurrent insert would.
 */
export function messageRepositoryCases(name: string, open: () => Promise<Database>, postgresUrl?: () => string): void {
  describe(name, () => {
    const { repo, messages, users, message, insert, rowCount } = chatDatabase(open);

    it('insert stores and maps a message, omitting absent optional fields', async () => {
      const [a = 0] = await users(1);
      const room = await repo().createRoom({ name: 'r', creatorId: a, memberIds: [] });
      const plain = await insert({ roomId: room.id, senderId: a, content: 'hi', clientMessageId: 'c-1' });
      expect(plain.created).toBe(true);
      expect(plain.seq).toBe(1);
      expect(plain.message).toStrictEqual({
        id: plain.message.id,
        chatRoomId: room.id,
        senderId: a,
        content: 'hi',
        messageType: 'text',
        clientMessageId: 'c-1',
        createdAt: plain.message.createdAt,
      });
      expect(plain.message.createdAt).toBeInstanceOf(Date);

      const image = await insert({
        roomId: room.id,
        senderId: a,
        content: 'look',
        messageType: 'image',
        clientMessageId: 'c-2',
        replyToMessageId: plain.message.id,
        mediaUrl: 'https://example.test/cat.png',
      });
      expect(image.message).toMatchObject({
        messageType: 'image',
        replyToMessageId: plain.message.id,
        mediaUrl: 'https://example.test/cat.png',
      });
      expect(image.seq).toBe(2);
      expect(image.message.id).toBeGreaterThan(plain.message.id);
      expect(await messages().get(image.message.id)).toStrictEqual({ message: image.message, seq: 2 });
      expect(await messages().get(NO_SUCH_ID)).toBeUndefined();
    });

    it('numbers each room on its own: 1, 2, 3… per room, however the rooms interleave', async () => {
      const [a = 0] = await users(1);
      const r1 = await repo().createRoom({ name: 'r1', creatorId: a, memberIds: [] });
      const r2 = await repo().createRoom({ name: 'r2', creatorId: a, memberIds: [] });
      const seqs: string[] = [];
      for (let i = 0; i < 3; i++) {
        seqs.push(`r1:${(await insert({ roomId: r1.id, senderId: a })).seq}`);
        seqs.push(`r2:${(await insert({ roomId: r2.id, senderId: a })).seq}`);
      }
      expect(seqs).toEqual(['r1:1', 'r2:1', 'r1:2', 'r2:2', 'r1:3', 'r2:3']);
    });

    it('concurrent inserts into one room take 1…n exactly, and ids grow with seq', async () => {
      const [a = 0, b = 0] = await users(2);
      const room = await repo().createRoom({ name: 'r', creatorId: a, memberIds: [b] });
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          insert({ roomId: room.id, senderId: i % 2 === 0 ? a : b, content: `m${i}` }),
        ),
      );
      expect(results.every((r) => r.created)).toBe(true);
      const bySeq = [...results].sort((x, y) => x.seq - y.seq);
      expect(bySeq.map((r) => r.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      const ids = bySeq.map((r) => r.message.id);
      expect([...ids].sort((x, y) => x - y)).toEqual(ids);
    });

    it('sends at once to several rooms go as a few statements: each room 1…n, ids grow with seq, a non-member and a bad one refused alone', async () => {
      const [a = 0, b = 0, outsider = 0] = await users(3);
      const rooms = await Promise.all(
        [0, 1, 2].map((i) => repo().createRoom({ name: `g${i}`, creatorId: a, memberIds: [b] })),
      );
      const key = uniqueName('g');
      const sends = Array.from({ length: 90 }, (_, i) =>
        messages().insert(
          message({ roomId: rooms[i % 3]!.id, senderId: i % 2 === 0 ? a : b, clientMessageId: `${key}-${i}` }),
        ),
      );
      // Among them: the same message again (to another room), a non-member's, and one the
      // database refuses (a NUL character).
      const again = messages().insert(message({ roomId: rooms[0]!.id, senderId: a, clientMessageId: `${key}-2` }));
      const outsiders = messages().insert(message({ roomId: rooms[0]!.id, senderId: outsider }));
      const bad = messages().insert(message({ roomId: rooms[1]!.id, senderId: a, content: 'nul \u0000 here' }));
      const results = await Promise.all(sends);
      await expect(bad).rejects.toThrow();
      expect(await outsiders).toBeUndefined();
      expect(await again).toEqual({ ...results[2]!, created: false });
      expect(results.every((r) => r?.created === true)).toBe(true);
      for (const room of rooms) {
        const mine = results.filter((r) => r!.message.chatRoomId === room.id).sort((x, y) => x!.seq - y!.seq);
        expect(mine.map((r) => r!.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
        const ids = mine.map((r) => r!.message.id);
        expect([...ids].sort((x, y) => x - y)).toEqual(ids);
        expect((await messages().history({ roomId: room.id, limit: 50 })).map((m) => m.id)).toEqual(ids);
      }
    });

    it('a retry returns the stored message, created:false, and stores one row', async () => {
      const [a = 0, b = 0] = await users(2);
      const room = await repo().createRoom({ name: 'r', creatorId: a, memberIds: [b] });
      const other = await repo().createRoom({ name: 'other', creatorId: a, memberIds: [] });
      const first = await insert({ roomId: room.id, senderId: a, clientMessageId: 'same' });
      expect(first.created).toBe(true);
      const retry = await insert({ roomId: room.id, senderId: a, clientMessageId: 'same' });
      expect(retry).toEqual({ message: first.message, seq: first.seq, created: false });
      // Idempotency wins over a different room, content or reply target.
      const changed = await insert({
        roomId: other.id,
        senderId: a,
        clientMessageId: 'same',
        content: 'changed',
        messageType: 'image',
        replyToMessageId: NO_SUCH_ID,
      });
      expect(changed).toEqual({ message: first.message, seq: first.seq, created: false });
      expect(await rowCount({ senderId: a })).toBe(1);
      // The key is per sender: another sender may use the same client id.
      const fromB = await insert({ roomId: room.id, senderId: b, clientMessageId: 'same' });
      expect(fromB.created).toBe(true);
      expect(fromB.seq).toBe(2);
    });

    it('10 concurrent identical inserts store one row and report created once', async () => {
      const [a = 0] = await users(1);
      const room = await repo().createRoom({ name: 'r', creatorId: a, memberIds: [] });
      const input = message({ roomId: room.id, senderId: a });
      const results = await Promise.all(Array.from({ length: 10 }, () => messages().insert(input)));
      expect(results.filter((r) => r?.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r?.message.id)).size).toBe(1);
      expect(await rowCount({ senderId: a })).toBe(1);
    });

    it('is undefined for an unknown room, and refuses a reply to a message of another room', async () => {
      const [a = 0] = await users(1);
      expect(await messages().insert(message({ roomId: NO_SUCH_ID, senderId: a }))).toBeUndefined();
      const room = await repo().createRoom({ name: 'r', creatorId: a, memberIds: [] });
      const other = await repo().createRoom({ name: 'other', creatorId: a, memberIds: [] });
      const elsewhere = await insert({ roomId: other.id, senderId: a });
      const attempt = messages().insert(
        message({ roomId: room.id, senderId: a, replyToMessageId: elsewhere.message.id }),
      );
      await expect(attempt).rejects.toBeInstanceOf(ChatInputError);
      await expect(attempt).rejects.toThrow(/^replyToMessageId: /);
      expect(await messages().history({ roomId: room.id, limit: 10 })).toEqual([]);
    });

    it('history pages backwards, newest last', async () => {
      const [a = 0] = await users(1);
      const room = await repo().createRoom({ name: 'r', creatorId: a, memberIds: [] });
      const other = await repo().createRoom({ name: 'other', creatorId: a, memberIds: [] });
      const ids: number[] = [];
      for (let i = 0; i < 7; i++) {
        ids.push((await insert({ roomId: room.id, senderId: a, content: `m${i}` })).message.id);
        // Interleaved messages of another room must never show up.
        await insert({ roomId: other.id, senderId: a });
      }
      const page = async (beforeMessageId: number | undefined, limit: number) =>
        (await messages().history({ roomId: room.id, beforeMessageId, limit })).map((m) => m.id);
      expect(await page(undefined, 3)).toEqual(ids.slice(4));
      expect(await page(ids[4], 3)).toEqual(ids.slice(1, 4));
      expect(await page(ids[1], 3)).toEqual(ids.slice(0, 1));
      expect(await page(ids[0], 3)).toEqual([]);
      expect(await page(undefined, 100)).toEqual(ids);
    });

    it('range reads a room between two seqs, in order', async () => {
      const [a = 0] = await users(1);
      const room = await repo().createRoom({ name: 'r', creatorId: a, memberIds: [] });
      for (let i = 1; i <= 6; i++) await insert({ roomId: room.id, senderId: a, content: `m${i}` });
      const contents = async (input: { afterSeq: number; uptoSeq?: number; limit: number }) =>
        (await messages().range({ roomId: room.id, ...input })).map((s) => `${s.seq}:${s.message.content}`);
      expect(await contents({ afterSeq: 2, uptoSeq: 4, limit: 10 })).toEqual(['3:m3', '4:m4']);
      expect(await contents({ afterSeq: 4, limit: 10 })).toEqual(['5:m5', '6:m6']);
      expect(await contents({ afterSeq: 0, limit: 2 })).toEqual(['1:m1', '2:m2']);
      expect(await contents({ afterSeq: 6, limit: 10 })).toEqual([]);
    });

    it('a snapshot gives each room its latest seq and the highest id', async () => {
      const [a = 0] = await users(1);
      const r1 = await repo().createRoom({ name: 'r1', creatorId: a, memberIds: [] });
      const r2 = await repo().createRoom({ name: 'r2', creatorId: a, memberIds: [] });
      await insert({ roomId: r1.id, senderId: a });
      const last = await insert({ roomId: r1.id, senderId: a });
      const snapshot = await messages().snapshot([r1.id, r2.id]);
      expect(snapshot.maxId).toBeGreaterThanOrEqual(last.message.id);
      expect(snapshot.rooms).toEqual(
        new Map([
          [r1.id, { lastSeq: 2, busy: false }],
          [r2.id, { lastSeq: 0, busy: false }],
        ]),
      );
      const atBase = await messages().snapshot([r1.id, r2.id], last.message.id - 1);
      expect(atBase.seqAtBase).toEqual(
        new Map([
          [r1.id, 1],
          [r2.id, 0],
        ]),
      );
    });

    if (postgresUrl !== undefined) {
      it('a snapshot marks a room whose insert is in flight as busy (a later message there may have a lower id)', async () => {
        const [a = 0] = await users(1);
        const room = await repo().createRoom({ name: 'r', creatorId: a, memberIds: [] });
        const quiet = await repo().createRoom({ name: 'q', creatorId: a, memberIds: [] });
        await insert({ roomId: room.id, senderId: a });
        const other = new pg.Client({ connectionString: postgresUrl() });
        await other.connect();
        try {
          // What an insert holds between taking the room's seq and committing.
          await other.query('begin');
          await other.query('update room_sequences set last_seq = last_seq + 1 where room_id = $1', [room.id]);
          const during = await messages().snapshot([room.id, quiet.id]);
          expect(during.rooms.get(room.id)).toEqual({ lastSeq: 1, busy: true });
          expect(during.rooms.get(quiet.id)).toEqual({ lastSeq: 0, busy: false });
          await other.query('rollback');
        } finally {
          await other.end();
        }
        // An aborted insert may leave the room looking busy (harmless: the position lists it)
        // until the next insert commits.
        await insert({ roomId: room.id, senderId: a });
        expect((await messages().snapshot([room.id])).rooms.get(room.id)).toEqual({ lastSeq: 2, busy: false });
      });
    }

    it('catchUp replays after the base in unlisted rooms and after the seq in listed ones, by id, with `more`', async () => {
      const [a = 0, b = 0, c = 0] = await users(3);
      const r1 = await repo().createRoom({ name: 'r1', creatorId: a, memberIds: [b] });
      const r2 = await repo().createRoom({ name: 'r2', creatorId: b, memberIds: [a] });
      const notMine = await repo().createRoom({ name: 'r3', creatorId: b, memberIds: [c] });
      const before = await insert({ roomId: r1.id, senderId: b });
      await insert({ roomId: r2.id, senderId: b });
      const expected: string[] = [];
      for (let i = 0; i < 3; i++) {
        expected.push(`r1:${(await insert({ roomId: r1.id, senderId: b })).seq}`);
        await insert({ roomId: notMine.id, senderId: c });
        expected.push(`r2:${(await insert({ roomId: r2.id, senderId: a })).seq}`);
      }
      const label = (s: { message: { chatRoomId: number }; seq: number }) =>
        `${s.message.chatRoomId === r1.id ? 'r1' : 'r2'}:${s.seq}`;
      // r1 is listed at seq 1; r2 is not: everything in it after the base counts.
      const from = { base: before.message.id, rooms: new Map([[r1.id, 1]]) };
      const all = await messages().catchUp({ userId: a, roomIds: [r1.id, r2.id], from, limit: 100 });
      expect(all.messages.map(label)).toEqual(['r2:1', ...expected]);
      expect(all.more).toBe(false);
      expect(all.snapshot.rooms.get(r1.id)?.lastSeq).toBe(4);
      const page = await messages().catchUp({ userId: a, roomIds: [r1.id, r2.id], from, limit: 3 });
      expect(page.more).toBe(true);
      expect(page.messages.map(label)).toEqual(all.messages.slice(0, 3).map(label));
      const latest = await messages().catchUp({ userId: a, roomIds: [r1.id, r2.id], from, limit: 3, latest: true });
      expect(latest.messages.map(label)).toEqual(all.messages.slice(-3).map(label));
      // A member who joined later gets nothing from before they joined, whatever the position says.
      await repo().addMembers({ roomId: r1.id, userIds: [c] });
      await insert({ roomId: r1.id, senderId: b, content: 'after c joined' });
      const late = await messages().catchUp({
        userId: c,
        roomIds: [r1.id],
        from: { base: 0, rooms: new Map() },
        limit: 100,
      });
      expect(late.messages.map((m) => m.message.content)).toEqual(['after c joined']);
      // Rooms the user is no longer in are not read at all.
      const mineOnly = await messages().catchUp({ userId: a, roomIds: [r2.id], from, limit: 100 });
      expect(mineOnly.messages.every((s) => s.message.chatRoomId === r2.id)).toBe(true);
    });
  });
}
