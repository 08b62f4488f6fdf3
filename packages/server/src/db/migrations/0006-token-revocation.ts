import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

// Frozen history like 0001. Tokens that can end before they expire: a user's token epoch
// (signing out everywhere, or a new password, moves it on and every older token is void)
// and the ids of single tokens signed out, kept until they would have expired anyway.
export const migration0006TokenRevocation: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .alterTable('users')
      .addColumn('token_epoch', 'integer', (col) => col.notNull().defaultTo(0))
      .execute();
    await db.schema
      .createTable('revoked_tokens')
      .addColumn('token_id', 'text', (col) => col.primaryKey())
      .addColumn('user_id', 'integer', (col) => col.notNull().references('users.id').onDelete('cascade'))
      .addColumn('expires_at', 'timestamptz', (col) => col.notNull())
      .addColumn('revoked_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
      .execute();
    // Forgetting the ones that expired walks this.
    await db.schema.createIndex('revoked_tokens_expires_at_idx').on('revoked_tokens').column('expires_at').execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('revoked_tokens').execute();
    await db.schema.alterTable('users').dropColumn('token_epoch').execute();
  },
};
