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
}

/** The database as Kysely sees it. */
export interface DB {
  users: UsersTable;
}

export type UserRow = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type UserUpdate = Updateable<UsersTable>;
