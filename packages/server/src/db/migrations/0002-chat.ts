import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Migration } from 'kysely/migration';

// Frozen history like 0001: snake_case names spelled out, no import of the runtime schema.
export const migration0002Chat: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('rooms')
      .addColumn('id', 'integer', (col) => col.primaryKey().generatedAlwaysAsIdentity())
      .addColumn('name', 'text', (col) => col.notNull())
      .addColumn('created_by', 'integer', (col) => col.notNull().references('users.id'))
      .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
      .execute();

    await db.schema
      .createTable('room_members')
      .addColumn('room_id', 'integer', (col) => col.notNull().references('rooms.id').onDelete('cascade'))
      .addColumn('user_id', 'integer', (col) => col.notNull().references('users.id'))
      .addColumn('joined_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
      .addPrimaryKeyConstraint('room_members_pkey', ['room_id', 'user_id'])
      .execute();
    // The primary key serves lookups by room; this one serves "rooms of a user".
    await db.schema.createIndex('room_members_user_id_idx').on('room_members').column('user_id').execute();

    await db.schema
      .createTable('messages')
      // Also the global cursor of the chat stream (catch-up asks for ids above the last seen).
      .addColumn('id', 'integer', (col) => col.primaryKey().generatedAlwaysAsIdentity())
      .addColumn('room_id', 'integer', (col) => col.notNull().references('rooms.id'))
      .addColumn('sender_id', 'integer', (col) => col.notNull().references('users.id'))
      .addColumn('content', 'text', (col) => col.notNull())
      .addColumn('content_type', 'text', (col) => col.notNull())
      .addColumn('reply_to_message_id', 'integer', (col) => col.references('messages.id'))
      .addColumn('media_url', 'text')
      .addColumn('client_message_id', 'text', (col) => col.notNull())
      .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
      .addCheckConstraint('messages_content_type_check', sql`content_type in ('text', 'image')`)
      // What makes a sender's retry idempotent.
      .addUniqueConstraint('messages_sender_id_client_message_id_key', ['sender_id', 'client_message_id'])
      .execute();
    // History pages and catch-up walk one room's messages by id.
    await db.schema.createIndex('messages_room_id_id_idx').on('messages').columns(['room_id', 'id']).execute();

    await db.schema
      .createTable('room_cursors')
      .addColumn('room_id', 'integer', (col) => col.notNull().references('rooms.id').onDelete('cascade'))
      .addColumn('user_id', 'integer', (col) => col.notNull().references('users.id'))
      // Plain positions in the message id sequence, not relations: no foreign keys.
      .addColumn('last_read_message_id', 'integer')
      .addColumn('last_delivered_message_id', 'integer')
      .addPrimaryKeyConstraint('room_cursors_pkey', ['room_id', 'user_id'])
      .execute();

    await db.schema
      .createTable('reactions')
      .addColumn('message_id', 'integer', (col) => col.notNull().references('messages.id').onDelete('cascade'))
      .addColumn('user_id', 'integer', (col) => col.notNull().references('users.id'))
      .addColumn('emoji', 'text', (col) => col.notNull())
      .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
      .addPrimaryKeyConstraint('reactions_pkey', ['message_id', 'user_id', 'emoji'])
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    // Reverse order of creation, so no table is dropped while another still references it.
    for (const table of ['reactions', 'room_cursors', 'messages', 'room_members', 'rooms']) {
      await db.schema.dropTable(table).execute();
    }
  },
};
