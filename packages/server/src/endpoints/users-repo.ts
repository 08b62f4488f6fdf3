import type { ChatUser } from '@streampod/protocol';
import type { Kysely } from 'kysely';
import type { DB, UserRow } from '../db/index.js';

/** A user row as the contract's `ChatUser` (no password hash, no nulls). */
export function toChatUser(
  row: Pick<UserRow, 'id' | 'username' | 'displayName' | 'avatarUrl' | 'lastSeenAt'>,
): ChatUser {
  return {
    id: row.id,
    username: row.username,
    displayName: row.displayName,
    ...(row.avatarUrl === null ? {} : { avatarUrl: row.avatarUrl }),
    ...(row.lastSeenAt === null ? {} : { lastSeenAt: row.lastSeenAt }),
  };
}

export const publicUserColumns = ['id', 'username', 'displayName', 'avatarUrl', 'lastSeenAt'] as const;

export function findUserById(db: Kysely<DB>, id: number) {
  return db.selectFrom('users').select(publicUserColumns).where('id', '=', id).executeTakeFirst();
}

/** The users with these ids that exist, by id ascending. */
export async function findUsersByIds(db: Kysely<DB>, ids: readonly number[]): Promise<ChatUser[]> {
  if (ids.length === 0) return [];
  const rows = await db.selectFrom('users').select(publicUserColumns).where('id', 'in', ids).orderBy('id').execute();
  return rows.map(toChatUser);
}

/** The users with these usernames (any case) that exist, in no particular order. */
export async function findUsersByUsernames(db: Kysely<DB>, usernames: readonly string[]): Promise<ChatUser[]> {
  const keys = [...new Set(usernames.map((u) => u.toLowerCase()))];
  if (keys.length === 0) return [];
  const rows = await db.selectFrom('users').select(publicUserColumns).where('usernameKey', 'in', keys).execute();
  return rows.map(toChatUser);
}
