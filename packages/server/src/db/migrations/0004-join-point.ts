import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

// Frozen history like 0001. Where each member came into a room: the room's last seq when
// they were added. Their streams start there, and a resume never replays what came before.
export const migration0004JoinPoint: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .alterTable('room_members')
      .addColumn('joined_seq', 'integer', (col) => col.notNull().defaultTo(0))
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('room_members').dropColumn('joined_seq').execute();
  },
};
