import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import type { Database } from '../db/database.js';
import { chatDatabase, NO_SUCH_ID, uniqueName } from './chat-db.js';
import { ChatInputError, UnknownUsersError } from '../chat/chat-repository.js';

/**
 * ChatRepository behaviour every engine must share (rooms, members, cursors, reactions). The
 * cases share one database from `open`; each creates its own users and rooms.
 */
export function chatRepositoryCases(name: string, open: () => Promise<Database>): void {
  describe(name, () => {
    const { database, repo, users, insert } = chatDatabase(open);

    describe('schema', () => {
      it('creates the chat tables with snake_case columns', async () => {
        const { rows } = await sql<{ tableName: string; columnName: string }>`
          select table_name, column_name from information_schema.columns
          where table_schema = 'public'
            and table_name in ('rooms', 'room_members', 'room_sequences', 'messages', 'room_cursors', 'reactions')
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
            'seq',
          ],
          reactions: ['message_id', 'user_id', 'emoji', 'created_at'],
          room_cursors: ['room_id', 'user_id', 'last_read_message_id', 'last_delivered_message_id'],
          room_members: ['room_id', 'user_id', 'joined_at', 'joined_seq'],
          room_sequences: ['room_id', 'last_seq'],
          rooms: ['id', 'name', 'created_by', 'created_at'],
        });
      });

      it('refuses a content type other than text or image', async () => {
        const [alice = 0] = await users(1);
        const room = await repo().createRoom({ name: 'r', creatorId: alice, memberIds: [] });
        const attempt = sql`insert into messages (room_id, seq, sender_id, content, content_type, client_message_id)
          values (${room.id}, 1, ${alice}, 'x', 'video', 'c1')`.execute(database().db);
        await expect(attempt).rejects.toMatchObject({ code: '23514' });
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
        expect(result).toEqual({ room: { ...room, memberIds: [a, b, c, d] }, added: [c, d], joinedSeq: 0 });

        await insert({ roomId: room.id, senderId: a });
        await insert({ roomId: room.id, senderId: a });
        const again = await repo().addMembers({ roomId: room.id, userIds: [c] });
        expect(again).toEqual({ room: { ...room, memberIds: [a, b, c, d] }, added: [], joinedSeq: 2 });
        expect(await repo().addMembers({ roomId: room.id, userIds: [] })).toEqual(again);
      });

      it('remembers where each member joined: the creator and first members at 0, later ones at the latest seq', async () => {
        const [a = 0, b = 0, c = 0] = await users(3);
        const room = await repo().createRoom({ name: 'r', creatorId: a, memberIds: [b] });
        await insert({ roomId: room.id, senderId: a });
        await repo().addMembers({ roomId: room.id, userIds: [c] });
        expect(await repo().membershipsOf(a)).toContainEqual({ roomId: room.id, joinedSeq: 0 });
        expect(await repo().membershipsOf(c)).toEqual([{ roomId: room.id, joinedSeq: 1 }]);
        expect(await repo().recentMemberships({ userIds: [b, c], withinMs: 60_000 })).toEqual(
          expect.arrayContaining([
            { userId: b, roomId: room.id, joinedSeq: 0 },
            { userId: c, roomId: room.id, joinedSeq: 1 },
          ]),
        );
        expect(await repo().recentMemberships({ userIds: [c], withinMs: 0 })).toEqual([]);
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
        const unread = { unreadCount: 0, lastReadMessageId: null };
        expect(await repo().listRooms(a)).toEqual([
          { ...first, ...unread },
          { ...second, ...unread },
        ]);
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

    describe('cursors', () => {
      it('move forward only, and reading implies delivered', async () => {
        const [a = 0, b = 0] = await users(2);
        const room = await repo().createRoom({ name: 'r', creatorId: a, memberIds: [b] });
        const ids: number[] = [];
        for (let i = 0; i < 4; i++) ids.push((await insert({ roomId: room.id, senderId: a })).message.id);
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
        for (let i = 0; i < 6; i++) ids.push((await insert({ roomId: room.id, senderId: a })).message.id);
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
        const elsewhere = await insert({ roomId: other.id, senderId: a });
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
        const { message: m } = await insert({ roomId: room.id, senderId: a });
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
