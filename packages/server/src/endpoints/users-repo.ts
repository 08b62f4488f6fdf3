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
