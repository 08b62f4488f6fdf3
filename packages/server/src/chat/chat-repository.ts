import type { ChatRoom } from '@streampod/protocol';
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { DB, RoomRow } from '../db/schema.js';
import { ChatInputError } from './message-repository.js';

export { ChatInputError };

/** Most unread messages `listRooms` counts in a room (a client shows "99+" past it). */
export const UNREAD_CAP = 100;

/** Ids given as users that no user has; the message names them. */
export class UnknownUsersError extends Error {
  override readonly name = 'UnknownUsersError';
  readonly userIds: number[];

  constructor(userIds: readonly number[]) {
    super(`unknown user ids: ${userIds.join(', ')}`);
    this.userIds = [...userIds];
  }
}

/** One member's read and delivered positions in a room. */
export interface RoomCursor {
  userId: number;
  lastReadMessageId: number | null;
  lastDeliveredMessageId: number | null;
}

/** Rooms, members, cursors and reactions, on PGlite or PostgreSQL alike (messages: `MessageRepository`). */
export class ChatRepository {
  readonly #db: Kysely<DB>;

  constructor(db: Kysely<DB>) {
    this.#db = db;
  }

  /** Creates a room; the creator is always a member; duplicate ids ignored. Throws UnknownUsersError for ids with no user. */
  async createRoom(input: { name: string; creatorId: number; memberIds: readonly number[] }): Promise<ChatRoom> {
    const memberIds = unique([input.creatorId, ...input.memberIds]);
    return this.#db.transaction().execute(async (trx) => {
      await assertUsersExist(trx, memberIds);
      const room = await trx
        .insertInto('rooms')
        .values({ name: input.name, createdBy: input.creatorId })
        .returning(['id', 'name', 'createdBy', 'createdAt'])
        .executeTakeFirstOrThrow();
      await trx
        .insertInto('roomMembers')
        .values(memberIds.map((userId) => ({ roomId: room.id, userId })))
        .execute();
      await trx.insertInto('roomSequences').values({ roomId: room.id }).execute();
      return toChatRoom(room, memberIds);
    });
  }

  /**
   * Adds members (already-members ignored); returns the room after, the ids newly added,
   * ascending, and the seq they joined at. Throws UnknownUsersError for unknown ids;
   * undefined for an unknown room.
   */
  async addMembers(input: {
    roomId: number;
    userIds: readonly number[];
  }): Promise<{ room: ChatRoom; added: number[]; joinedSeq: number } | undefined> {
    const userIds = unique(input.userIds);
    return this.#db.transaction().execute(async (trx) => {
      const room = await trx
        .selectFrom('rooms')
        .select(['id', 'name', 'createdAt'])
        .where('id', '=', input.roomId)
        .executeTakeFirst();
      if (room === undefined) return undefined;
      await assertUsersExist(trx, userIds);
      // New members start at the room's latest message: what came before is history.
      const sequence = await trx
        .selectFrom('roomSequences')
        .select('lastSeq')
        .where('roomId', '=', room.id)
        .executeTakeFirst();
      const joinedSeq = sequence?.lastSeq ?? 0;
      // ON CONFLICT rather than a prior check, so two concurrent calls never both report
      // the same user as added.
      const inserted =
        userIds.length === 0
          ? []
          : await trx
              .insertInto('roomMembers')
              .values(userIds.map((userId) => ({ roomId: room.id, userId, joinedSeq })))
              .onConflict((oc) => oc.columns(['roomId', 'userId']).doNothing())
              .returning('userId')
              .execute();
      const memberIds = await membersOf(trx, room.id);
      return {
        room: toChatRoom(room, memberIds),
        added: inserted.map((r) => r.userId).sort(ascending),
        joinedSeq,
      };
    });
  }

  /** The room with its members (ascending), or undefined. */
  async getRoom(roomId: number): Promise<ChatRoom | undefined> {
    const room = await this.#db
      .selectFrom('rooms')
      .select(['id', 'name', 'createdAt'])
      .where('id', '=', roomId)
      .executeTakeFirst();
    if (room === undefined) return undefined;
    return toChatRoom(room, await membersOf(this.#db, roomId));
  }

  /**
   * The user's rooms, oldest first, with memberIds sorted ascending, the user's read cursor
   * and how many messages of others came after it (counted up to `UNREAD_CAP`).
   */
  async listRooms(userId: number): Promise<ChatRoom[]> {
    const rooms = await this.#db
      .selectFrom('rooms')
      .innerJoin('roomMembers', 'roomMembers.roomId', 'rooms.id')
      .leftJoin('roomCursors', (join) =>
        join.onRef('roomCursors.roomId', '=', 'rooms.id').on('roomCursors.userId', '=', userId),
      )
      .select(['rooms.id', 'rooms.name', 'rooms.createdAt', 'roomCursors.lastReadMessageId'])
      // Capped, so a room with a long unread past costs what a busy one does.
      .select(
        sql<number>`(select count(*) from (select 1 from messages m
          where m.room_id = rooms.id and m.seq > room_members.joined_seq
            and m.id > coalesce(room_cursors.last_read_message_id, 0) and m.sender_id <> ${userId}
          limit ${UNREAD_CAP}) unread)`.as('unreadCount'),
      )
      .where('roomMembers.userId', '=', userId)
      .orderBy('rooms.id')
      .execute();
    if (rooms.length === 0) return [];
    const members = await this.#db
      .selectFrom('roomMembers')
      .select(['roomId', 'userId'])
      .where(
        'roomId',
        'in',
        rooms.map((r) => r.id),
      )
      .orderBy('userId')
      .execute();
    const byRoom = new Map<number, number[]>(rooms.map((r) => [r.id, []]));
    for (const m of members) byRoom.get(m.roomId)?.push(m.userId);
    return rooms.map((r) => ({
      ...toChatRoom(r, byRoom.get(r.id) ?? []),
      unreadCount: Number(r.unreadCount),
      lastReadMessageId: r.lastReadMessageId,
    }));
  }

  /**
   * Takes the user out of the room; true when they were in it. Their cursors stay, so
   * coming back later does not make the room's past unread again.
   */
  async leaveRoom(input: { roomId: number; userId: number }): Promise<boolean> {
    const result = await this.#db
      .deleteFrom('roomMembers')
      .where('roomId', '=', input.roomId)
      .where('userId', '=', input.userId)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  /** Of `userIds`, the ones that are members of the room now. */
  async membersAmong(roomId: number, userIds: readonly number[]): Promise<Set<number>> {
    if (userIds.length === 0) return new Set();
    const rows = await this.#db
      .selectFrom('roomMembers')
      .select('userId')
      .where('roomId', '=', roomId)
      .where('userId', 'in', unique(userIds))
      .execute();
    return new Set(rows.map((r) => r.userId));
  }

  /** Whether the user is a member of the room (false for an unknown room). */
  async isMember(input: { roomId: number; userId: number }): Promise<boolean> {
    const row = await this.#db
      .selectFrom('roomMembers')
      .select('roomId')
      .where('roomId', '=', input.roomId)
      .where('userId', '=', input.userId)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** The user's rooms, ascending, each with the seq they joined at. */
  async membershipsOf(userId: number): Promise<{ roomId: number; joinedSeq: number }[]> {
    return this.#db
      .selectFrom('roomMembers')
      .select(['roomId', 'joinedSeq'])
      .where('userId', '=', userId)
      .orderBy('roomId')
      .execute();
  }

  /**
   * Rooms joined by any of `userIds` within the last `withinMs` (by the database's clock),
   * for streams that may have missed the news.
   */
  async recentMemberships(input: {
    userIds: readonly number[];
    withinMs: number;
  }): Promise<{ userId: number; roomId: number; joinedSeq: number }[]> {
    if (input.userIds.length === 0) return [];
    return this.#db
      .selectFrom('roomMembers')
      .select(['userId', 'roomId', 'joinedSeq'])
      .where('userId', 'in', input.userIds)
      .where('joinedAt', '>', sql<Date>`now() - make_interval(secs => ${input.withinMs / 1000})`)
      .execute();
  }

  /** Of `pairs`, those that are memberships (one query). */
  async stillMembers(
    pairs: readonly { userId: number; roomId: number }[],
  ): Promise<{ userId: number; roomId: number }[]> {
    if (pairs.length === 0) return [];
    return this.#db
      .selectFrom('roomMembers')
      .select(['userId', 'roomId'])
      .where((eb) => eb.or(pairs.map((p) => eb.and([eb('userId', '=', p.userId), eb('roomId', '=', p.roomId)]))))
      .execute();
  }

  /** The ids of the user's rooms, ascending. */
  async roomIdsOf(userId: number): Promise<number[]> {
    const rows = await this.#db
      .selectFrom('roomMembers')
      .select('roomId')
      .where('userId', '=', userId)
      .orderBy('roomId')
      .execute();
    return rows.map((r) => r.roomId);
  }

  /** The room's member ids, ascending; empty for an unknown room. */
  async membersOf(roomId: number): Promise<number[]> {
    return membersOf(this.#db, roomId);
  }

  /** Of userIds, those sharing at least one room with viewerId (one query). Implements presence's Membership. */
  async sharedWith(viewerId: number, userIds: readonly number[]): Promise<Set<number>> {
    const wanted = unique(userIds);
    if (wanted.length === 0) return new Set();
    const rows = await this.#db
      .selectFrom('roomMembers as mine')
      .innerJoin('roomMembers as other', 'other.roomId', 'mine.roomId')
      .select('other.userId')
      .distinct()
      .where('mine.userId', '=', viewerId)
      .where('other.userId', 'in', wanted)
      .execute();
    return new Set(rows.map((r) => r.userId));
  }

  /**
   * Moves the user's read or delivered cursor forward only (never back); the message must be
   * in the room, else ChatInputError naming messageId. Reading also moves delivered up to the
   * read id. Returns true when the cursor moved.
   */
  async advanceCursor(input: {
    roomId: number;
    userId: number;
    kind: 'read' | 'delivered';
    messageId: number;
  }): Promise<boolean> {
    const message = await this.#db
      .selectFrom('messages')
      .select('id')
      .where('id', '=', input.messageId)
      .where('roomId', '=', input.roomId)
      .executeTakeFirst();
    if (message === undefined) {
      throw new ChatInputError(`messageId: message ${input.messageId} is not in this room`);
    }
    const read = input.kind === 'read';
    // One upsert whose WHERE refuses to move back, so concurrent calls cannot regress it.
    // Delivered never trails read (every read lifts it), so "read moved" is all that counts.
    const moved = await this.#db
      .insertInto('roomCursors')
      .values({
        roomId: input.roomId,
        userId: input.userId,
        lastReadMessageId: read ? input.messageId : null,
        lastDeliveredMessageId: input.messageId,
      })
      .onConflict((oc) =>
        read
          ? oc
              .columns(['roomId', 'userId'])
              .doUpdateSet((eb) => ({
                lastReadMessageId: eb.ref('excluded.lastReadMessageId'),
                // GREATEST ignores NULL, so a never-set delivered cursor takes the read id.
                lastDeliveredMessageId: sql<number>`greatest(${eb.ref('roomCursors.lastDeliveredMessageId')}, ${eb.ref('excluded.lastDeliveredMessageId')})`,
              }))
              .where((eb) =>
                eb.or([
                  eb('roomCursors.lastReadMessageId', 'is', null),
                  eb('roomCursors.lastReadMessageId', '<', eb.ref('excluded.lastReadMessageId')),
                ]),
              )
          : oc
              .columns(['roomId', 'userId'])
              .doUpdateSet((eb) => ({ lastDeliveredMessageId: eb.ref('excluded.lastDeliveredMessageId') }))
              .where((eb) =>
                eb.or([
                  eb('roomCursors.lastDeliveredMessageId', 'is', null),
                  eb('roomCursors.lastDeliveredMessageId', '<', eb.ref('excluded.lastDeliveredMessageId')),
                ]),
              ),
      )
      .returning('roomId')
      .executeTakeFirst();
    return moved !== undefined;
  }

  /** Every stored cursor of the room, by user id ascending. */
  async cursors(roomId: number): Promise<RoomCursor[]> {
    return this.#db
      .selectFrom('roomCursors')
      .select(['userId', 'lastReadMessageId', 'lastDeliveredMessageId'])
      .where('roomId', '=', roomId)
      .orderBy('userId')
      .execute();
  }

  /** Adds or removes a reaction; returns true when something changed. Unknown message → undefined. */
  async setReaction(input: {
    messageId: number;
    userId: number;
    emoji: string;
    removed: boolean;
  }): Promise<boolean | undefined> {
    const message = await this.#db
      .selectFrom('messages')
      .select('id')
      .where('id', '=', input.messageId)
      .executeTakeFirst();
    if (message === undefined) return undefined;
    const key = { messageId: input.messageId, userId: input.userId, emoji: input.emoji };
    if (input.removed) {
      const result = await this.#db
        .deleteFrom('reactions')
        .where('messageId', '=', key.messageId)
        .where('userId', '=', key.userId)
        .where('emoji', '=', key.emoji)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    }
    const inserted = await this.#db
      .insertInto('reactions')
      .values(key)
      .onConflict((oc) => oc.columns(['messageId', 'userId', 'emoji']).doNothing())
      .returning('messageId')
      .executeTakeFirst();
    return inserted !== undefined;
  }
}

function unique(ids: readonly number[]): number[] {
  return [...new Set(ids)].sort(ascending);
}

function ascending(a: number, b: number): number {
  return a - b;
}

/** Throws UnknownUsersError naming the ids (ascending, distinct) that no user has. */
async function assertUsersExist(db: Kysely<DB>, userIds: readonly number[]): Promise<void> {
  if (userIds.length === 0) return;
  const rows = await db.selectFrom('users').select('id').where('id', 'in', userIds).execute();
  const found = new Set(rows.map((r) => r.id));
  const missing = userIds.filter((id) => !found.has(id));
  if (missing.length > 0) throw new UnknownUsersError(missing);
}

// Takes the executor, so that inside a transaction it runs on that transaction: on PGlite
// the one connection is held by the transaction and a query on the outer handle would wait forever.
async function membersOf(db: Kysely<DB>, roomId: number): Promise<number[]> {
  const rows = await db
    .selectFrom('roomMembers')
    .select('userId')
    .where('roomId', '=', roomId)
    .orderBy('userId')
    .execute();
  return rows.map((r) => r.userId);
}

function toChatRoom(room: Pick<RoomRow, 'id' | 'name' | 'createdAt'>, memberIds: number[]): ChatRoom {
  return { id: room.id, name: room.name, memberIds, createdAt: room.createdAt };
}
