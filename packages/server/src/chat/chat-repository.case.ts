import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../db/database.js';
import { ChatInputError, ChatRepository, UnknownUsersError } from './chat-repository.js';
import type { NewMessage } from './chat-repository.js';

/** A name unique across test runs, because Postgres storage outlives a test. */
function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

/** An id no user, room or message has (the identity columns are positive int4). */
const NO_SUCH_ID = 2_000_000_000;

/**
 * ChatRepository behaviour every engine must share. The cases share one database from `open`;
 * each creates its own users and rooms, so their rows never collide.
 */
export function chatRepositoryCases(name: string, open: () => Promise<Database>): void {
  describe(name, () => {
    let shared: Database | undefined;
    let repository: ChatRepository | undefined;
    const database = (): Database => {
      if (!shared) throw new Error('database not opened');
      return shared;
    };
    const repo = (): ChatRepository => {
      if (!repository) throw new Error('database not opened');
      return repository;
    };

    beforeAll(async () => {
      shared = await open();
      repository = new ChatRepository(shared.db);
    });
    afterAll(async () => {
      await shared?.close();
    });

    /** Inserts `count` users directly and returns their ids, ascending. */
    async function users(count: number): Promise<number[]> {
      const prefix = uniqueName('u');
      const rows = await database()
        .db.insertInto('users')
        .values(
          Array.from({ length: count }, (_, i) => ({
            username: `${prefix}_${i}`,
            usernameKey: `${prefix}_${i}`,
            displayName: `User ${i}`,
            passwordHash: 'hash',
          })),
        )
        .returning('id')
        .execute();
      return rows.map((r) => r.id).sort((a, b) => a - b);
    }

    function message(overrides: Partial<NewMessage> & Pick<NewMessage, 'roomId' | 'senderId'>): NewMessage {
      return { content: 'hello', messageType: 'text', clientMessageId: uniqueName('c'), ...overrides };
    }

    async function rowCount(where: { senderId: number }): Promise<number> {
      const row = await database()
        .db.selectFrom('messages')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('senderId', '=', where.senderId)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    }

    describe('schema', () => {
      it('creates the chat tables with snake_case columns', async () => {
        const { rows } = await sql<{ tableName: string; columnName: string }>`
          select table_name, column_name from information_schema.columns
          where table_schema = 'public'
            and table_name in ('rooms', 'room_members', 'messages', 'room_cursors', 'reactions')
          order by table_name, ordinal_position`.execute(database().db);
        const byTable: Record<string, string[]> = {};
        for (const r of rows) (byTable[r.tableName] ??= []).push(r.columnName);
        expect(byTable).toEqual({
          messages: [
            'id',
            'room_id',
            'sender_id',
            'content',
            'content_type',
            'reply_to_message_id',
            'media_url',
            'client_message_id',
            'created_at',
          ],
          reactions: ['message_id', 'user_id', 'emoji', 'created_at'],
          room_cursors: ['room_id', 'user_id', 'last_read_message_id', 'last_delivered_message_id'],
          room_members: ['room_id', 'user_id', 'joined_at'],
          rooms: ['id', 'name', 'created_by', 'created_at'],
        });
      });

      it('refuses a content type other than text or image', async () => {
        const [alice = 0] = await users(1);
        const room = await repo().createRoom({ name: 'r', creatorId: alice, memberIds: [] });
        const insert = sql`insert into messages (room_id, sender_id, content, content_type, client_message_id)
          values (${room.id}, ${alice}, 'x', 'video', 'c1')`.execute(database().db);
        await expect(insert).rejects.toMatchObject({ code: '23514' });
      });
    });

    describe('rooms', () => {
      it('createRoom makes the creator a member, ignores duplicates and sorts memberIds', async () => {
        const [a = 0, b = 0, c = 0] = await users(3);
        const room = await repo().createRoom({ name: 'Team', creatorId: c, memberIds: [b, a, b, c] });
        expect(room).toEqual({
          id: expect.any(Number) as number,
          name: 'Team',
          memberIds: [a, b, c],
          createdAt: expect.any(Date) as Date,
        });
        expect(Math.abs(room.createdAt.getTime() - Date.now())).toBeLessThan(60_000);
        expect(await repo().getRoom(room.id)).toEqual(room);

        const alone = await repo().createRoom({ name: 'Solo', creatorId: a, memberIds: [] });
        expect(alone.memberIds).toEqual([a]);
      });

      it('createRoom names unknown users and stores nothing', async () => {
        const [a = 0] = await users(1);
        const roomName = uniqueName('ghosts');
        const attempt = repo().createRoom({ name: roomName, creatorId: a, memberIds: [NO_SUCH_ID + 1, a, NO_SUCH_ID] });
        await expect(attempt).rejects.toBeInstanceOf(UnknownUsersError);
        await expect(attempt).rejects.toMatchObject({
          userIds: [NO_SUCH_ID, NO_SUCH_ID + 1],
          message: expect.stringContaining(`${NO_SUCH_ID}, ${NO_SUCH_ID + 1}`) as string,
        });
        // An unknown creator is named as well.
        await expect(
          repo().createRoom({ name: roomName, creatorId: NO_SUCH_ID, memberIds: [a] }),
        ).rejects.toMatchObject({
          userIds: [NO_SUCH_ID],
        });
        const stored = await database().db.selectFrom('rooms').select('id').where('name', '=', roomName).execute();
        expect(stored).toEqual([]);
      });

      it('addMembers returns the room after and only the ids newly added', async () => {
        const [a = 0, b = 0, c = 0, d = 0] = await users(4);
        const room = await repo().createRoom({ name: 'r', creatorId: a, memberIds: [b] });
        const result = await repo().addMembers({ roomId: room.id, userIds: [d, b, c, d, a] });
        expect(result).toEqual({ room: { ...room, memberIds: [a, b, c, d] }, added: [c, d] });

        const again = await repo().addMembers({ roomId: room.id, userIds: [c] });
        expect(again).toEqual({ room: { ...room, memberIds: [a, b, c, d] }, added: [] });
        expect(await repo().addMembers({ roomId: room.id, userIds: [] })).toEqual(again);
      });

      it('addMembers is undefined for an unknown room and names unknown users, adding none', async () => {
        const [a = 0, b = 0] = await users(2);
        expect(await repo().addMembers({ roomId: NO_SUCH_ID, userIds: [a] })).toBeUndefined();

        const room = await repo().createRoom({ name: 'r', creatorId: a, memberIds: [] });
        const attempt = repo().addMembers({ roomId: room.id, userIds: [b, NO_SUCH_ID] });
        await expect(attempt).rejects.toBeInstanceOf(UnknownUsersError);
        await expect(attempt).rejects.toMatchObject({
          userIds: [NO_SUCH_ID],
          message: expect.stringContaining(String(NO_SUCH_ID)) as string,
        });
        expect(await repo().membersOf(room.id)).toEqual([a]);
      });

      it('concurrent addMembers report each new member once', async () => {
        const [a = 0, b = 0, c = 0] = await users(3);
        const room = await repo().createRoom({ name: 'r', creatorId: a, memberIds: [] });
        const results = await Promise.all(
          Array.from({ length: 5 }, () => repo().addMembers({ roomId: room.id, userIds: [b, c] })),
        );
        expect(results.flatMap((r) => r?.added ?? []).sort((x, y) => x - y)).toEqual([b, c]);
      });

      it('getRoom is undefined for an unknown room', async () => {
        expect(await repo().getRoom(NO_SUCH_ID)).toBeUndefined();
      });

      it("listRooms gives the user's rooms oldest first with members ascending", async () => {
        const [a = 0, b = 0, c = 0] = await users(3);
        const first = await repo().createRoom({ name: 'first', creatorId: c, memberIds: [a] });
        await repo().createRoom({ name: 'not mine', creatorId: b, memberIds: [c] });
        const second = await repo().createRoom({ name: 'second', creatorId: a, memberIds: [c, b] });
        expect(await repo().listRooms(a)).toEqual([first, second]);
        expect(second.memberIds).toEqual([a, b, c]);

        const [loner = 0] = await users(1);
        expect(await repo().listRooms(loner)).toEqual([]);
      });

      it('isMember, roomIdsOf and membersOf', async () => {
        const [a = 0, b = 0, c = 0] = await users(3);
        const r1 = await repo().createRoom({ name: 'r1', creatorId: a, memberIds: [b] });
        const r2 = await repo().createRoom({ name: 'r2', creatorId: c, memberIds: [a] });

        expect(await repo().isMember({ roomId: r1.id, userId: b })).toBe(true);
        expect(await repo().isMember({ roomId: r1.id, userId: c })).toBe(false);
        expect(await repo().isMember({ roomId: NO_SUCH_ID, userId: a })).toBe(false);

        expect(await repo().roomIdsOf(a)).toEqual([r1.id, r2.id]);
        expect(await repo().roomIdsOf(b)).toEqual([r1.id]);

        expect(await repo().membersOf(r2.id)).toEqual([a, c]);
        expect(await repo().membersOf(NO_SUCH_ID)).toEqual([]);
      });

      it('sharedWith keeps only the users sharing a room with the viewer', async () => {
        const [viewer = 0, roommate = 0, other = 0, stranger = 0, strangerFriend = 0] = await users(5);
        await repo().createRoom({ name: 'r1', creatorId: viewer, memberIds: [roommate] });
        await repo().createRoom({ name: 'r2', creatorId: other, memberIds: [viewer, roommate] });
        await repo().createRoom({ name: 'r3', creatorId: stranger, memberIds: [strangerFriend] });

        const shared = await repo().sharedWith(viewer, [roommate, other, stranger, roommate, NO_SUCH_ID]);
        expect([...shared].sort((x, y) => x - y)).toEqual([roommate, other]);
        expect(await repo().sharedWith(viewer, [])).toEqual(new Set());
        expect(await repo().sharedWith(stranger, [roommate, viewer])).toEqual(new Set());

        const [nobody = 0] = await users(1);
        expect(await repo().sharedWith(nobody, [viewer])).toEqual(new Set());
      });
    });

    describe('messages', () => {
      it('insertMessage stores and maps a message, omitting absent optional fields', async () => {
        const [a = 0] = await users(1);
        const room = await repo().createRoom({ name: 'r', creatorId: a, memberIds: [] });
        const plain = await repo().insertMessage({
          roomId: room.id,
          senderId: a,
          content: 'hi',
          messageType: 'text',
          clientMessageId: 'c-1',
        });
        expect(plain.created).toBe(true);
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

        const image = await repo().insertMessage({
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
        expect(image.message.id).toBeGreaterThan(plain.message.id);
        expect(await repo().getMessage(image.message.id)).toStrictEqual(image.message);
        expect(await repo().getMessage(plain.message.id)).toStrictEqual(plain.message);
      });

      it('getMessage is undefined for an unknown id', async () => {
        expect(await repo().getMessage(NO_SUCH_ID)).toBeUndefined();
      });

      it('a retry returns the stored message, created:false, and stores one row', async () => {
        const [a = 0, b = 0] = await users(2);
        const room = await repo().createRoom({ name: 'r', creatorId: a, memberIds: [b] });
        const other = await repo().createRoom({ name: 'other', creatorId: a, memberIds: [] });
        const first = await repo().insertMessage(message({ roomId: room.id, senderId: a, clientMessageId: 'same' }));
        expect(first.created).toBe(true);

        const retry = await repo().insertMessage(message({ roomId: room.id, senderId: a, clientMessageId: 'same' }));
        expect(retry).toEqual({ message: first.message, created: false });
        // Idempotency wins over a different room, content or reply target.
        const changed = await repo().insertMessage(
          message({
            roomId: other.id,
            senderId: a,
            clientMessageId: 'same',
            content: 'changed',
            messageType: 'image',
            replyToMessageId: NO_SUCH_ID,
          }),
        );
        expect(changed).toEqual({ message: first.message, created: false });
        expect(await rowCount({ senderId: a })).toBe(1);

        // The key is per sender: another sender may use the same client id.
        const fromB = await repo().insertMessage(message({ roomId: room.id, senderId: b, clientMessageId: 'same' }));
        expect(fromB.created).toBe(true);
        expect(fromB.message.id).not.toBe(first.message.id);
      });

      it('10 concurrent identical inserts store one row and report created once', async () => {
        const [a = 0] = await users(1);
        const room = await repo().createRoom({ name: 'r', creatorId: a, memberIds: [] });
        const input = message({ roomId: room.id, senderId: a });
        const results = await Promise.all(Array.from({ length: 10 }, () => repo().insertMessage(input)));
        expect(results.filter((r) => r.created)).toHaveLength(1);
        expect(new Set(results.map((r) => r.message.id)).size).toBe(1);
        expect(await rowCount({ senderId: a })).toBe(1);
      });

      it('concurrent distinct inserts all succeed with distinct ids', async () => {
        const [a = 0] = await users(1);
        const room = await repo().createRoom({ name: 'r', creatorId: a, memberIds: [] });
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            repo().insertMessage(message({ roomId: room.id, senderId: a, content: `m${i}` })),
          ),
        );
        expect(results.every((r) => r.created)).toBe(true);
        expect(new Set(results.map((r) => r.message.id)).size).toBe(20);
        expect(await rowCount({ senderId: a })).toBe(20);
      });

      it('refuses a reply to a message of another room, naming replyToMessageId', async () => {
        const [a = 0] = await users(1);
        const room = await repo().createRoom({ name: 'r', creatorId: a, memberIds: [] });
        const other = await repo().createRoom({ name: 'other', creatorId: a, memberIds: [] });
        const elsewhere = await repo().insertMessage(message({ roomId: other.id, senderId: a }));

        const attempt = repo().insertMessage(
          message({ roomId: room.id, senderId: a, replyToMessageId: elsewhere.message.id }),
        );
        await expect(attempt).rejects.toBeInstanceOf(ChatInputError);
        await expect(attempt).rejects.toThrow(/^replyToMessageId: /);
        await expect(
          repo().insertMessage(message({ roomId: room.id, senderId: a, replyToMessageId: NO_SUCH_ID })),
        ).rejects.toThrow(/^replyToMessageId: /);
        expect(await repo().history({ roomId: room.id, limit: 10 })).toEqual([]);
      });

      it('history pages backwards, newest last', async () => {
        const [a = 0] = await users(1);
        const room = await repo().createRoom({ name: 'r', creatorId: a, memberIds: [] });
        const other = await repo().createRoom({ name: 'other', creatorId: a, memberIds: [] });
        const ids: number[] = [];
        for (let i = 0; i < 7; i++) {
          ids.push(
            (await repo().insertMessage(message({ roomId: room.id, senderId: a, content: `m${i}` }))).message.id,
          );
          // Interleaved messages of another room must never show up.
          await repo().insertMessage(message({ roomId: other.id, senderId: a }));
        }
        const page = async (beforeMessageId: number | undefined, limit: number) =>
          (await repo().history({ roomId: room.id, beforeMessageId, limit })).map((m) => m.id);

        expect(await page(undefined, 3)).toEqual(ids.slice(4));
        expect(await page(ids[4], 3)).toEqual(ids.slice(1, 4));
        expect(await page(ids[1], 3)).toEqual(ids.slice(0, 1));
        expect(await page(ids[0], 3)).toEqual([]);
        expect(await page(undefined, 100)).toEqual(ids);
        const latest = await repo().history({ roomId: room.id, limit: 1 });
        expect(latest.map((m) => m.content)).toEqual(['m6']);
      });

      it('backlog spans the rooms the user is in, by id, with `more`', async () => {
        const [a = 0, b = 0, c = 0] = await users(3);
        const r1 = await repo().createRoom({ name: 'r1', creatorId: a, memberIds: [b] });
        const r2 = await repo().createRoom({ name: 'r2', creatorId: b, memberIds: [a] });
        const notMine = await repo().createRoom({ name: 'r3', creatorId: b, memberIds: [c] });
        const before = await repo().insertMessage(message({ roomId: r1.id, senderId: b }));
        const expected: number[] = [];
        for (let i = 0; i < 3; i++) {
          expected.push((await repo().insertMessage(message({ roomId: r1.id, senderId: b }))).message.id);
          await repo().insertMessage(message({ roomId: notMine.id, senderId: c }));
          expected.push((await repo().insertMessage(message({ roomId: r2.id, senderId: a }))).message.id);
        }
        const after = before.message.id;

        const all = await repo().backlog({ userId: a, afterMessageId: after, limit: 100 });
        expect(all.messages.map((m) => m.id)).toEqual(expected);
        expect(all.more).toBe(false);
        expect(all.messages.map((m) => m.chatRoomId)).toEqual([r1.id, r2.id, r1.id, r2.id, r1.id, r2.id]);

        const first = await repo().backlog({ userId: a, afterMessageId: after, limit: 4 });
        expect(first).toEqual({ messages: all.messages.slice(0, 4), more: true });
        const rest = await repo().backlog({ userId: a, afterMessageId: expected[3] ?? 0, limit: 2 });
        expect(rest).toEqual({ messages: all.messages.slice(4), more: false });
        const exact = await repo().backlog({ userId: a, afterMessageId: after, limit: 6 });
        expect(exact.more).toBe(false);
        const huge = await repo().backlog({ userId: a, afterMessageId: after, limit: Number.MAX_SAFE_INTEGER });
        expect(huge).toEqual(all);
      });

      it('backlog counts membership as of now', async () => {
        const [a = 0, b = 0] = await users(2);
        const room = await repo().createRoom({ name: 'r', creatorId: b, memberIds: [] });
        const sent = await repo().insertMessage(message({ roomId: room.id, senderId: b }));
        expect(await repo().backlog({ userId: a, afterMessageId: sent.message.id - 1, limit: 10 })).toEqual({
          messages: [],
          more: false,
        });
        // Joining later makes the room's earlier messages part of the backlog.
        await repo().addMembers({ roomId: room.id, userIds: [a] });
        const after = await repo().backlog({ userId: a, afterMessageId: sent.message.id - 1, limit: 10 });
        expect(after.messages).toEqual([sent.message]);
      });
    });

    describe('cursors', () => {
      it('move forward only, and reading implies delivered', async () => {
        const [a = 0, b = 0] = await users(2);
        const room = await repo().createRoom({ name: 'r', creatorId: a, memberIds: [b] });
        const ids: number[] = [];
        for (let i = 0; i < 4; i++)
          ids.push((await repo().insertMessage(message({ roomId: room.id, senderId: a }))).message.id);
        const [m0 = 0, m1 = 0, m2 = 0, m3 = 0] = ids;
        const advance = (userId: number, kind: 'read' | 'delivered', messageId: number) =>
          repo().advanceCursor({ roomId: room.id, userId, kind, messageId });

        expect(await repo().cursors(room.id)).toEqual([]);
        expect(await advance(b, 'delivered', m1)).toBe(true);
        expect(await repo().cursors(room.id)).toEqual([
          { userId: b, lastReadMessageId: null, lastDeliveredMessageId: m1 },
        ]);
        expect(await advance(b, 'delivered', m0)).toBe(false);
        expect(await advance(b, 'delivered', m1)).toBe(false);

        // Read beyond delivered lifts delivered too.
        expect(await advance(b, 'read', m2)).toBe(true);
        expect(await repo().cursors(room.id)).toEqual([
          { userId: b, lastReadMessageId: m2, lastDeliveredMessageId: m2 },
        ]);
        expect(await advance(b, 'read', m1)).toBe(false);
        expect(await advance(b, 'read', m2)).toBe(false);

        // Read behind delivered leaves delivered where it is.
        expect(await advance(b, 'delivered', m3)).toBe(true);
        expect(await advance(a, 'read', m0)).toBe(true);
        expect(await repo().cursors(room.id)).toEqual([
          { userId: a, lastReadMessageId: m0, lastDeliveredMessageId: m0 },
          { userId: b, lastReadMessageId: m2, lastDeliveredMessageId: m3 },
        ]);
        expect(await advance(b, 'read', m3)).toBe(true);
        expect(await repo().cursors(room.id)).toContainEqual({
          userId: b,
          lastReadMessageId: m3,
          lastDeliveredMessageId: m3,
        });
      });

      it('concurrent advances keep the highest id', async () => {
        const [a = 0] = await users(1);
        const room = await repo().createRoom({ name: 'r', creatorId: a, memberIds: [] });
        const ids: number[] = [];
        for (let i = 0; i < 6; i++)
          ids.push((await repo().insertMessage(message({ roomId: room.id, senderId: a }))).message.id);
        await Promise.all(
          [...ids]
            .reverse()
            .map((messageId) => repo().advanceCursor({ roomId: room.id, userId: a, kind: 'read', messageId })),
        );
        const top = ids[5] ?? 0;
        expect(await repo().cursors(room.id)).toEqual([
          { userId: a, lastReadMessageId: top, lastDeliveredMessageId: top },
        ]);
      });

      it('refuse a message of another room, naming messageId', async () => {
        const [a = 0] = await users(1);
        const room = await repo().createRoom({ name: 'r', creatorId: a, memberIds: [] });
        const other = await repo().createRoom({ name: 'other', creatorId: a, memberIds: [] });
        const elsewhere = await repo().insertMessage(message({ roomId: other.id, senderId: a }));
        for (const kind of ['read', 'delivered'] as const) {
          const attempt = repo().advanceCursor({ roomId: room.id, userId: a, kind, messageId: elsewhere.message.id });
          await expect(attempt).rejects.toBeInstanceOf(ChatInputError);
          await expect(attempt).rejects.toThrow(/^messageId: /);
        }
        await expect(
          repo().advanceCursor({ roomId: room.id, userId: a, kind: 'read', messageId: NO_SUCH_ID }),
        ).rejects.toThrow(/^messageId: /);
        expect(await repo().cursors(room.id)).toEqual([]);
      });
    });

    describe('reactions', () => {
      it('add, remove and no-op', async () => {
        const [a = 0, b = 0] = await users(2);
        const room = await repo().createRoom({ name: 'r', creatorId: a, memberIds: [b] });
        const { message: m } = await repo().insertMessage(message({ roomId: room.id, senderId: a }));
        const react = (userId: number, emoji: string, removed: boolean) =>
          repo().setReaction({ messageId: m.id, userId, emoji, removed });
        // Sorted here: how the database orders emoji depends on its collation.
        const stored = async () =>
          (
            await database()
              .db.selectFrom('reactions')
              .select(['userId', 'emoji'])
              .where('messageId', '=', m.id)
              .execute()
          )
            .map((r) => `${r.userId}:${r.emoji}`)
            .sort();

        expect(await react(b, '👍', false)).toBe(true);
        expect(await react(b, '👍', false)).toBe(false);
        expect(await react(b, '🎉', false)).toBe(true);
        expect(await react(a, '👍', false)).toBe(true);
        expect(await stored()).toEqual([`${a}:👍`, `${b}:🎉`, `${b}:👍`].sort());

        expect(await react(b, '👍', true)).toBe(true);
        expect(await react(b, '👍', true)).toBe(false);
        expect(await react(b, '❤️', true)).toBe(false);
        expect(await stored()).toEqual([`${a}:👍`, `${b}:🎉`].sort());
      });

      it('are undefined for an unknown message', async () => {
        const [a = 0] = await users(1);
        expect(
          await repo().setReaction({ messageId: NO_SUCH_ID, userId: a, emoji: '👍', removed: false }),
        ).toBeUndefined();
        expect(
          await repo().setReaction({ messageId: NO_SUCH_ID, userId: a, emoji: '👍', removed: true }),
        ).toBeUndefined();
      });
    });
  });
}
