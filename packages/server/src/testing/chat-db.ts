import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { ChatRepository } from '../chat/chat-repository.js';
import { MessageRepository, type NewMessage, type StoredMessage } from '../chat/message-repository.js';
import type { Database } from '../db/database.js';

/** A name unique across test runs, because PostgreSQL storage outlives a test. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(4).toString('hex')}`;
}

/** An id no user, room or message has (the identity columns are positive int4). */
export const NO_SUCH_ID = 2_000_000_000;

/**
 * One database for a describe block (opened before it, closed after), with the chat
 * repositories on it and helpers to make users and messages. Cases make their own users and
 * rooms, so they never collide on a shared database.
 */
export function chatDatabase(open: () => Promise<Database>) {
  let shared: Database | undefined;
  let rooms: ChatRepository | undefined;
  let messages: MessageRepository | undefined;
  beforeAll(async () => {
    shared = await open();
    rooms = new ChatRepository(shared.db);
    messages = new MessageRepository(shared.db);
  });
  afterAll(async () => {
    await shared?.close();
  });
  const need = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('database not opened');
    return value;
  };
  const fixture = {
    database: (): Database => need(shared),
    repo: (): ChatRepository => need(rooms),
    messages: (): MessageRepository => need(messages),
    /** Inserts `count` users directly and returns their ids, ascending. */
    users: async (count: number): Promise<number[]> => {
      const prefix = uniqueName('u');
      const rows = await need(shared)
        .db.insertInto('users')
        .values(
          Array.from({ length: count }, (_, i) => ({
            username: `${prefix}_${i}`,
            usernameKey: `${prefix}_${i}`,
            displayName: `User ${i}`,
            passwordHash: 'hash',
          })),
        )
        .returning('id')
        .execute();
      return rows.map((r) => r.id).sort((a, b) => a - b);
    },
    /** A message to insert, with a fresh client id. */
    message: (overrides: Partial<NewMessage> & Pick<NewMessage, 'roomId' | 'senderId'>): NewMessage => ({
      content: 'hello',
      messageType: 'text',
      clientMessageId: uniqueName('c'),
      ...overrides,
    }),
    /** Inserts a message into an existing room. */
    insert: async (
      overrides: Partial<NewMessage> & Pick<NewMessage, 'roomId' | 'senderId'>,
    ): Promise<StoredMessage & { created: boolean }> => {
      const stored = await need(messages).insert(fixture.message(overrides));
      if (stored === undefined) throw new Error(`no room ${overrides.roomId}`);
      return stored;
    },
    rowCount: async (where: { senderId: number }): Promise<number> => {
      const row = await need(shared)
        .db.selectFrom('messages')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('senderId', '=', where.senderId)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
  return fixture;
}
