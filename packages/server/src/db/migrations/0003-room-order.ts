import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

// Frozen history like 0001: snake_case names spelled out, no import of the runtime schema.
// Each room gets its own message order: `seq` is taken from the room's row in
// `room_sequences` inside the insert, so a room's commit order is its sequence order and no
// lock spans rooms. The counter lives in a table of its own that nothing references: its
// rows are locked only by inserts, so a locked row means an insert in flight.
export const migration0003RoomOrder: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('room_sequences')
      .addColumn('room_id', 'integer', (col) => col.primaryKey().references('rooms.id').onDelete('cascade'))
      .addColumn('last_seq', 'integer', (col) => col.notNull().defaultTo(0))
      .execute();
    await db.schema.alterTable('messages').addColumn('seq', 'integer').execute();
    // Until now one lock ordered every insert, so id order is each room's order.
    await sql`update messages m set seq = s.n
      from (select id, row_number() over (partition by room_id order by id) as n from messages) s
      where m.id = s.id`.execute(db);
    await sql`insert into room_sequences (room_id, last_seq)
      select r.id, coalesce((select max(seq) from messages m where m.room_id = r.id), 0) from rooms r`.execute(db);
    await db.schema
      .alterTable('messages')
      .alterColumn('seq', (col) => col.setNotNull())
      .execute();
    await db.schema
      .createIndex('messages_room_id_seq_key')
      .unique()
      .on('messages')
      .columns(['room_id', 'seq'])
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropIndex('messages_room_id_seq_key').execute();
    await db.schema.alterTable('messages').dropColumn('seq').execute();
    await db.schema.dropTable('room_sequences').execute();
  },
};
