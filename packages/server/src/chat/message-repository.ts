import type { ChatMessage, ContentType } from '@streampod/protocol';
import { CompiledQuery, sql, type Kysely } from 'kysely';
import type { DB, MessageRow } from '../db/schema.js';
import { GroupCommit } from '../util/group-commit.js';
import type { StreamPosition } from './stream-position.js';

/** Input the repository refuses; the message starts with the offending field's name. */
export class ChatInputError extends Error {
  override readonly name = 'ChatInputError';
}

/** What `insert` stores. */
export interface NewMessage {
  roomId: number;
  senderId: number;
  content: string;
  messageType: ContentType;
  clientMessageId: string;
  replyToMessageId?: number | undefined;
  mediaUrl?: string | undefined;
}

/** A stored message and its place in its room. */
export interface StoredMessage {
  readonly message: ChatMessage;
  readonly seq: number;
}

/** What a resuming stream asks for: see `MessageRepository.catchUp`. */
export interface CatchUpInput {
  readonly userId: number;
  /** The rooms the stream follows (the user's, now). */
  readonly roomIds: readonly number[];
  readonly from: StreamPosition;
  readonly limit: number;
  /** The newest `limit` instead of the oldest. */
  readonly latest?: boolean;
}

/** Rooms as one database snapshot saw them. */
export interface RoomsSnapshot {
  /** The highest message id visible (0 when there is none). */
  readonly maxId: number;
  /** room → its latest seq, and whether an insert into it was in flight */
  readonly rooms: ReadonlyMap<number, { readonly lastSeq: number; readonly busy: boolean }>;
}

/**
 * A new message: the UPDATE takes the room's next seq and locks its counter until commit,
 * so the next insert into this room reads this seq and commits after it. Only a member's
 * message is stored (the check is part of the statement, so no membership can go stale
 * between a check and the insert). A retry (its client id already stored) moves no counter
 * and inserts nothing. Two racing first sends of one message can leave a seq unused (the
 * loser's); readers take gaps as they come. Typed casts: a bare parameter in a select list
 * would be taken for text. $1 room, $2 sender, $3 content, $4 content type, $5 reply-to,
 * $6 media URL, $7 client message id.
 */
const INSERT_MESSAGE = `
with room as (
  update room_sequences set last_seq = last_seq + 1
  where room_id = $1
    and exists (select 1 from room_members where room_id = $1 and user_id = $2)
    and not exists (select 1 from messages where sender_id = $2 and client_message_id = $7)
  returning last_seq
)
insert into messages (room_id, sender_id, content, content_type, reply_to_message_id, media_url, client_message_id, seq)
select $1::integer, $2::integer, $3::text, $4::text, $5::integer, $6::text, $7::text, room.last_seq from room
on conflict (sender_id, client_message_id) do nothing
returning id, room_id, seq, sender_id, content, content_type, reply_to_message_id, media_url, client_message_id, created_at`;

/** Most messages one statement stores. */
const MAX_BATCH = 64;

/**
 * Many new messages, as INSERT_MESSAGE does one (the same checks, per message), for rooms
 * and senders of all kinds: the rooms' counters are locked in room order, so two such
 * statements never deadlock, then each room's messages take its next seqs in the order
 * they came, and get their ids in that order too. The first of two with one client id wins.
 * No replies (they go one by one). Arrays: $1 room, $2 sender, $3 content, $4 content type,
 * $5 media URL, $6 client message id.
 */
const INSERT_MESSAGES = `
with input as (
  select * from unnest($1::integer[], $2::integer[], $3::text[], $4::text[], $5::text[], $6::text[])
    with ordinality as t(room_id, sender_id, content, content_type, media_url, client_message_id, n)
),
accepted as (
  select i.* from input i
  where exists (select 1 from room_members m where m.room_id = i.room_id and m.user_id = i.sender_id)
    and not exists (select 1 from messages x where x.sender_id = i.sender_id and x.client_message_id = i.client_message_id)
    and not exists (select 1 from input j where j.sender_id = i.sender_id and j.client_message_id = i.client_message_id and j.n < i.n)
),
counts as (select room_id, count(*)::integer as added from accepted group by room_id),
locked as (
  select room_id from room_sequences where room_id in (select room_id from counts) order by room_id for update
),
rooms as (
  update room_sequences s set last_seq = s.last_seq + c.added
  from counts c
  where s.room_id = c.room_id and s.room_id in (select room_id from locked)
  returning s.room_id, s.last_seq - c.added as before_seq
)
insert into messages (room_id, sender_id, content, content_type, media_url, client_message_id, seq)
select a.room_id, a.sender_id, a.content, a.content_type, a.media_url, a.client_message_id,
  r.before_seq + row_number() over (partition by a.room_id order by a.n)
from accepted a join rooms r on r.room_id = a.room_id
order by a.n
on conflict (sender_id, client_message_id) do nothing
returning id, room_id, seq, sender_id, content, content_type, reply_to_message_id, media_url, client_message_id, created_at`;

const messageColumns = [
  'id',
  'roomId',
  'seq',
  'senderId',
  'content',
  'contentType',
  'replyToMessageId',
  'mediaUrl',
  'clientMessageId',
  'createdAt',
] as const;

/**
 * Messages, in one order per room: an insert takes the room's next `seq` under the room's
 * row lock in the same statement, so a room commits in sequence order while inserts into
 * different rooms never wait for each other.
 */
export class MessageRepository {
  readonly #db: Kysely<DB>;

  readonly #writes: GroupCommit<NewMessage, MessageRow | undefined>;

  /**
   * @param opts.concurrentWrites inserts running at once; more wait and go as one statement
   *   (1 on the embedded database, which runs one statement at a time anyway)
   */
  constructor(db: Kysely<DB>, opts: { concurrentWrites?: number } = {}) {
    this.#db = db;
    this.#writes = new GroupCommit({
      write: (inputs) => this.#insert(inputs),
      maxInFlight: opts.concurrentWrites ?? 4,
      maxBatch: MAX_BATCH,
    });
  }

  /** Stores new messages (statements written out, not built per call: building cost more CPU than running them). */
  async #insert(inputs: readonly NewMessage[]): Promise<(MessageRow | undefined)[]> {
    if (inputs.length === 1) {
      const input = inputs[0]!;
      const { rows } = await this.#db.executeQuery<MessageRow>(
        CompiledQuery.raw(INSERT_MESSAGE, [
          input.roomId,
          input.senderId,
          input.content,
          input.messageType,
          input.replyToMessageId ?? null,
          input.mediaUrl ?? null,
          input.clientMessageId,
        ]),
      );
      return [rows[0]];
    }
    const { rows } = await this.#db.executeQuery<MessageRow>(
      CompiledQuery.raw(INSERT_MESSAGES, [
        inputs.map((i) => i.roomId),
        inputs.map((i) => i.senderId),
        inputs.map((i) => i.content),
        inputs.map((i) => i.messageType),
        inputs.map((i) => i.mediaUrl ?? null),
        inputs.map((i) => i.clientMessageId),
      ]),
    );
    const stored = new Map(rows.map((r) => [`${r.senderId}\u0000${r.clientMessageId}`, r]));
    return inputs.map((i) => stored.get(`${i.senderId}\u0000${i.clientMessageId}`));
  }

  /**
   * Stores a message, idempotent on (senderId, clientMessageId): a retry, even one naming
   * another room or content, returns the stored message with created:false and stores
   * nothing. A replyToMessageId must be a message of the same room, else ChatInputError.
   * Stores nothing, and resolves undefined, when the sender is not a member of the room (or
   * there is no such room).
   */
  async insert(input: NewMessage): Promise<(StoredMessage & { created: boolean }) | undefined> {
    if (input.replyToMessageId !== undefined) {
      // Idempotency first: a retry is answered even if its reply target would now be refused.
      const stored = await findByClientId(this.#db, input);
      if (stored !== undefined) return { ...toStored(stored), created: false };
      // Messages are never moved or deleted, so this check cannot go stale before the insert.
      const target = await this.#db
        .selectFrom('messages')
        .select('id')
        .where('id', '=', input.replyToMessageId)
        .where('roomId', '=', input.roomId)
        .executeTakeFirst();
      if (target === undefined) {
        throw new ChatInputError(`replyToMessageId: message ${input.replyToMessageId} is not in this room`);
      }
    }
    // One statement for a new message, and one for many sent at once (group commit).
    const row =
      input.replyToMessageId === undefined ? await this.#writes.submit(input) : (await this.#insert([input]))[0];
    if (row !== undefined) return { ...toStored(row), created: true };
    const stored = await findByClientId(this.#db, input);
    return stored === undefined ? undefined : { ...toStored(stored), created: false };
  }

  /** The message, or undefined. */
  async get(messageId: number): Promise<StoredMessage | undefined> {
    const row = await this.#db
      .selectFrom('messages')
      .select(messageColumns)
      .where('id', '=', messageId)
      .executeTakeFirst();
    return row === undefined ? undefined : toStored(row);
  }

  /** A page of a room's history, newest last: the `limit` messages before `beforeMessageId` (or the latest). */
  async history(input: {
    roomId: number;
    beforeMessageId?: number | undefined;
    limit: number;
  }): Promise<ChatMessage[]> {
    let query = this.#db
      .selectFrom('messages')
      .select(messageColumns)
      .where('roomId', '=', input.roomId)
      .orderBy('seq', 'desc')
      .limit(input.limit);
    if (input.beforeMessageId !== undefined) query = query.where('id', '<', input.beforeMessageId);
    const rows = await query.execute();
    const messages = rows.reverse().map((r) => toStored(r).message);
    if (messages.length === 0) return messages;
    const reactions = await this.#db
      .selectFrom('reactions')
      .select(['messageId', 'emoji', 'userId'])
      .where(
        'messageId',
        'in',
        messages.map((m) => m.id),
      )
      .orderBy('createdAt')
      .orderBy('userId')
      .execute();
    const byMessage = new Map<number, Map<string, number[]>>();
    for (const r of reactions) {
      let emojis = byMessage.get(r.messageId);
      if (emojis === undefined) byMessage.set(r.messageId, (emojis = new Map<string, number[]>()));
      let users = emojis.get(r.emoji);
      if (users === undefined) emojis.set(r.emoji, (users = []));
      users.push(r.userId);
    }
    return messages.map((m) => {
      const emojis = byMessage.get(m.id);
      return emojis === undefined
        ? m
        : { ...m, reactions: [...emojis].map(([emoji, userIds]) => ({ emoji, userIds })) };
    });
  }

  /** A room's messages with `afterSeq < seq ≤ uptoSeq` (no upper bound when absent), in order, at most `limit`. */
  async range(input: { roomId: number; afterSeq: number; uptoSeq?: number; limit: number }): Promise<StoredMessage[]> {
    let query = this.#db
      .selectFrom('messages')
      .select(messageColumns)
      .where('roomId', '=', input.roomId)
      .where('seq', '>', input.afterSeq)
      .orderBy('seq')
      .limit(input.limit);
    if (input.uptoSeq !== undefined) query = query.where('seq', '<=', input.uptoSeq);
    return (await query.execute()).map(toStored);
  }

  /**
   * Rooms as one snapshot sees them: each one's latest seq, whether an insert into it was
   * in flight (its counter locked by an uncommitted update: `xmax` set), and the highest message id.
   * For a room with no insert in flight, every later message gets a higher id than
   * `maxId`, which is what makes `maxId` a stream position's base.
   */
  snapshot(roomIds: readonly number[]): Promise<RoomsSnapshot>;
  /** The same, with each room's seq as of message id `base` (its last message with an id up to it). */
  snapshot(roomIds: readonly number[], base: number): Promise<RoomsSnapshot & { seqAtBase: Map<number, number> }>;
  snapshot(roomIds: readonly number[], base?: number): Promise<RoomsSnapshot & { seqAtBase?: Map<number, number> }> {
    return this.#db
      .transaction()
      .setIsolationLevel('repeatable read')
      .execute(async (trx) => {
        const snapshot = await readSnapshot(trx, roomIds);
        if (base === undefined || roomIds.length === 0) return { ...snapshot, seqAtBase: new Map() };
        const rows = await trx
          .selectFrom('roomSequences as r')
          .select((eb) => [
            'r.roomId',
            eb
              .selectFrom('messages as m')
              .select('m.seq')
              .whereRef('m.roomId', '=', 'r.roomId')
              .where('m.id', '<=', base)
              .orderBy('m.id', 'desc')
              .limit(1)
              .as('seq'),
          ])
          .where('r.roomId', 'in', roomIds)
          .execute();
        return { ...snapshot, seqAtBase: new Map(rows.map((r) => [r.roomId, r.seq ?? 0])) };
      });
  }

  /**
   * What a stream resuming at `from` missed in `roomIds` (rooms of `userId`), read in one
   * snapshot with that snapshot's rooms: in listed rooms the messages after their seq, in
   * the others those after the base; never one from before the user joined the room;
   * oldest first, at most `limit` (`more` when there are others), or with `latest` the
   * newest `limit` of them.
   */
  catchUp(input: CatchUpInput): Promise<{ snapshot: RoomsSnapshot; messages: StoredMessage[]; more: boolean }> {
    return this.#db
      .transaction()
      .setIsolationLevel('repeatable read')
      .execute(async (trx) => {
        const snapshot = await readSnapshot(trx, input.roomIds);
        if (input.roomIds.length === 0) return { snapshot, messages: [], more: false };
        const listed = input.roomIds.filter((id) => input.from.rooms.has(id));
        const unlisted = input.roomIds.filter((id) => !input.from.rooms.has(id));
        const rows = await trx
          .selectFrom('messages as m')
          .innerJoin('roomMembers as rm', (join) =>
            join.onRef('rm.roomId', '=', 'm.roomId').on('rm.userId', '=', input.userId),
          )
          .select(messageColumns.map((c) => `m.${c}` as const))
          .whereRef('m.seq', '>', 'rm.joinedSeq')
          .where((eb) =>
            eb.or([
              ...(unlisted.length === 0
                ? []
                : [eb.and([eb('m.roomId', 'in', unlisted), eb('m.id', '>', input.from.base)])]),
              ...listed.map((roomId) =>
                eb.and([eb('m.roomId', '=', roomId), eb('m.seq', '>', input.from.rooms.get(roomId)!)]),
              ),
            ]),
          )
          .orderBy('m.id', input.latest === true ? 'desc' : 'asc')
          // One row beyond the page tells whether there is more, without a count.
          .limit(input.limit + 1)
          .execute();
        const more = rows.length > input.limit;
        const page = rows.slice(0, input.limit);
        if (input.latest === true) page.reverse();
        return { snapshot, messages: page.map(toStored), more };
      });
  }
}

async function readSnapshot(db: Kysely<DB>, roomIds: readonly number[]): Promise<RoomsSnapshot> {
  const max = await db
    .selectFrom('messages')
    .select((eb) => eb.fn.max('id').as('maxId'))
    .executeTakeFirst();
  const rooms = new Map<number, { lastSeq: number; busy: boolean }>();
  if (roomIds.length > 0) {
    const rows = await db
      .selectFrom('roomSequences')
      .select(['roomId', 'lastSeq', sql<boolean>`xmax::text <> '0'`.as('busy')])
      .where('roomId', 'in', roomIds)
      .execute();
    for (const row of rows) rooms.set(row.roomId, { lastSeq: row.lastSeq, busy: row.busy });
  }
  return { maxId: Number(max?.maxId ?? 0), rooms };
}

function findByClientId(
  db: Kysely<DB>,
  key: { senderId: number; clientMessageId: string },
): Promise<MessageRow | undefined> {
  return db
    .selectFrom('messages')
    .select(messageColumns)
    .where('senderId', '=', key.senderId)
    .where('clientMessageId', '=', key.clientMessageId)
    .executeTakeFirst();
}

function toStored(row: MessageRow): StoredMessage {
  return {
    seq: row.seq,
    message: {
      id: row.id,
      chatRoomId: row.roomId,
      senderId: row.senderId,
      content: row.content,
      messageType: row.contentType,
      ...(row.replyToMessageId === null ? {} : { replyToMessageId: row.replyToMessageId }),
      ...(row.mediaUrl === null ? {} : { mediaUrl: row.mediaUrl }),
      clientMessageId: row.clientMessageId,
      createdAt: row.createdAt,
    },
  };
}
