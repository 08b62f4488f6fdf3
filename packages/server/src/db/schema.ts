import type { ColumnType, GeneratedAlways, Insertable, Selectable, Updateable } from 'kysely';

/**
 * Column types as seen by TypeScript. Names are camelCase here; `CamelCasePlugin` maps them
 * to the snake_case columns the migrations create.
 */
export interface UsersTable {
  id: GeneratedAlways<number>;
  /** As the user typed it (case preserved, for display). */
  username: string;
  /** Lower-cased `username`; the unique key that makes usernames case-insensitive. */
  usernameKey: string;
  displayName: string;
  avatarUrl: string | null;
  passwordHash: string;
  createdAt: ColumnType<Date, Date | undefined, never>;
  lastSeenAt: Date | null;
  /** Tokens issued at an older epoch are void (signed out everywhere, or a new password). */
  tokenEpoch: ColumnType<number, number | undefined, number>;
}

/** Single tokens signed out before they expire; forgotten once they would have expired. */
export interface RevokedTokensTable {
  tokenId: string;
  userId: number;
  expiresAt: Date;
  revokedAt: ColumnType<Date, Date | undefined, never>;
}

/** A refresh token: good once, in a family (one sign-in's chain), at the user's token epoch. */
export interface RefreshTokensTable {
  id: string;
  familyId: string;
  userId: number;
  /** SHA-256 of the secret half, hex: the database never holds a usable token. */
  secretHash: string;
  epoch: number;
  expiresAt: Date;
  usedAt: Date | null;
  createdAt: ColumnType<Date, Date | undefined, never>;
}

/** A chat room; its members are in `roomMembers`. */
export interface RoomsTable {
  id: GeneratedAlways<number>;
  name: string;
  createdBy: number;
  createdAt: ColumnType<Date, Date | undefined, never>;
}

/**
 * Each room's message counter, in a table nothing references: only message inserts lock
 * its rows, so a locked row (a visible version with `xmax` set) is an insert in flight.
 */
export interface RoomSequencesTable {
  roomId: number;
  /** The sequence number of the room's latest message (0: none yet). */
  lastSeq: ColumnType<number, number | undefined, number>;
}

/** Who is in which room; the creator is always a member. */
export interface RoomMembersTable {
  roomId: number;
  userId: number;
  joinedAt: ColumnType<Date, Date | undefined, never>;
  /** The room's last seq when the member was added: their streams start after it. */
  joinedSeq: ColumnType<number, number | undefined, never>;
}

/**
 * A stored message. `seq` is its place in its room (1, 2, 3…, taken under the room's row
 * lock, so commit order is sequence order); `id` is unique across rooms and grows with
 * `seq` within a room.
 */
export interface MessagesTable {
  id: GeneratedAlways<number>;
  roomId: number;
  seq: number;
  senderId: number;
  content: string;
  /** The protocol's `ContentType`; a check constraint keeps other values out. */
  contentType: 'text' | 'image';
  replyToMessageId: number | null;
  mediaUrl: string | null;
  /** Chosen by the sender; unique per sender, so a retry finds the stored message. */
  clientMessageId: string;
  createdAt: ColumnType<Date, Date | undefined, never>;
}

/** How far a member has read and received a room; ids only ever grow. */
export interface RoomCursorsTable {
  roomId: number;
  userId: number;
  lastReadMessageId: number | null;
  lastDeliveredMessageId: number | null;
}

/** One emoji of one user on one message. */
export interface ReactionsTable {
  messageId: number;
  userId: number;
  emoji: string;
  createdAt: ColumnType<Date, Date | undefined, never>;
}

/** Settings every node of an installation shares. */
export interface SettingsTable {
  key: string;
  value: string;
}

/** The database as Kysely sees it. */
export interface DB {
  settings: SettingsTable;
  users: UsersTable;
  revokedTokens: RevokedTokensTable;
  refreshTokens: RefreshTokensTable;
  rooms: RoomsTable;
  roomMembers: RoomMembersTable;
  roomSequences: RoomSequencesTable;
  messages: MessagesTable;
  roomCursors: RoomCursorsTable;
  reactions: ReactionsTable;
}

export type UserRow = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type UserUpdate = Updateable<UsersTable>;

export type RoomRow = Selectable<RoomsTable>;
export type MessageRow = Selectable<MessagesTable>;
