import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

// Frozen history like 0001. Settings every node of an installation must share (the token
// secret, when nodes generate it instead of being given one).
export const migration0005Settings: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('settings')
      .addColumn('key', 'text', (col) => col.primaryKey())
      .addColumn('value', 'text', (col) => col.notNull())
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('settings').execute();
  },
};
