import { stockWsClient } from '@streampod/framework/testing';
import { describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../db/index.js';
import { createRoom, openChatStream, send } from '../testing/chat-helpers.js';
import { createTestPostgres } from '../testing/postgres.js';
import { connectDevice, registerUser } from '../testing/presence-helpers.js';
import { startChatTestServer } from '../testing/test-server.js';

const ROUNDS = 50;

/**
 * The reconnect race, run 50 times: the reader's connection drops, the writer keeps sending
 * while the reader resumes with its lastEventId; the reader must end up with every message
 * exactly once, in order.
 */
async function reconnectRace(database: Database) {
  await using server = await startChatTestServer({ database });
  const writer = await registerUser(server, 'writer');
  const reader = await registerUser(server, 'reader');
  await using w = await connectDevice(server, writer.token);
  const room = await createRoom(w, { name: 'race', memberIds: [reader.id] });
  const sent: string[] = [];
  const received: string[] = [];

  let client = await connectDevice(server, reader.token);
  let stream = openChatStream(client);
  await stream.ready();
  let seen = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const before = `r${round} before`;
    sent.push(before);
    await send(w, room.id, before);
    await stream.untilMessages(seen + 1);
    received.push(...stream.messages().slice(seen));
    const lastEventId = stream.lastId()!;
    await client.close(); // the drop

    // The writer goes on while the reader comes back.
    const during = [`r${round} a`, `r${round} b`, `r${round} c`];
    sent.push(...during);
    const sending = (async () => {
      for (const text of during) await send(w, room.id, text);
    })();
    client = stockWsClient(server.wsUrl, reader.token);
    stream = openChatStream(client, { lastEventId });
    await sending;
    await stream.untilMessages(during.length);
    received.push(...stream.messages());
    seen = stream.messages().length;
  }
  await client.close();
  expect(received).toHaveLength(sent.length);
  expect(received).toEqual(sent);
}

describe('catch-up under the reconnect race (50 rounds)', () => {
  it('on the embedded database: zero lost, zero duplicated', async () => {
    const database = await openDatabase({ dataDir: 'memory' });
    try {
      await reconnectRace(database);
    } finally {
      await database.close();
    }
  });

  it('on PostgreSQL: zero lost, zero duplicated', async () => {
    await using pg = await createTestPostgres();
    const database = await openDatabase({ url: pg.url });
    try {
      await reconnectRace(database);
    } finally {
      await database.close();
    }
  });
});
