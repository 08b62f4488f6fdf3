import { failureOf, stockHttpClient } from '@streampod/framework/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../db/index.js';
import { createRoom, openChatStream, send } from '../testing/chat-helpers.js';
import { connectDevice, registerUser } from '../testing/presence-helpers.js';
import { startChatTestServer, type ChatTestServer } from '../testing/test-server.js';

let database: Database;
let server: ChatTestServer;
beforeAll(async () => {
  database = await openDatabase({ dataDir: 'memory' });
  server = await startChatTestServer({ database });
});
afterAll(async () => {
  await server.close();
  await database.close();
});

const NUL = 'a\u0000b';
const LONE = 'a\uD800b';

describe('text fields refuse U+0000 and lone surrogates with BAD_REQUEST naming the field', () => {
  it('on every text input of auth, rooms, messages, reactions and user search, over HTTP and WebSocket', async () => {
    const alice = await registerUser(server, 'alice');
    await using a = await connectDevice(server, alice.token);
    const http = stockHttpClient(server.url);
    const room = await createRoom(a, { name: 'strings', memberIds: [] });
    const message = await send(a, room.id, 'hello');
    const cases: [string, 'query' | 'mutation', (bad: string) => unknown, string][] = [
      [
        'auth.register',
        'mutation',
        (bad) => ({ username: 'nulname', password: 'a long password', displayName: bad }),
        'displayName',
      ],
      ['auth.register', 'mutation', (bad) => ({ username: 'nulpass', password: `long ${bad} password` }), 'password'],
      ['auth.login', 'mutation', (bad) => ({ username: bad, password: 'whatever it is' }), 'username'],
      ['chat.createRoom', 'mutation', (bad) => ({ name: bad, memberIds: [] }), 'name'],
      ['chat.sendMessage', 'mutation', (bad) => ({ roomId: room.id, content: bad, clientMessageId: 'c1' }), 'content'],
      [
        'chat.sendMessage',
        'mutation',
        (bad) => ({ roomId: room.id, content: 'x', clientMessageId: bad }),
        'clientMessageId',
      ],
      [
        'chat.sendMessage',
        'mutation',
        (bad) => ({ roomId: room.id, content: 'x', clientMessageId: 'c2', mediaUrl: `https://example.com/${bad}` }),
        'mediaUrl',
      ],
      ['chat.react', 'mutation', (bad) => ({ messageId: message.id, emoji: bad }), 'emoji'],
      ['users.find', 'query', (bad) => ({ usernames: [bad] }), 'usernames.0'],
    ];
    for (const [path, kind, input, field] of cases) {
      for (const bad of [NUL, LONE]) {
        for (const [transport, client] of [
          ['ws', a],
          ['http', path.startsWith('auth.') ? http : stockHttpClient(server.url, alice.token)],
        ] as const) {
          const failure = await failureOf(
            kind === 'query' ? client.query(path, input(bad)) : client.mutation(path, input(bad)),
          );
          expect(failure, `${path} ${field} over ${transport}`).toMatchObject({ code: 'BAD_REQUEST' });
          expect(failure.message, `${path} ${field} over ${transport}`).toContain(`${field}: must`);
        }
      }
    }
    // Nothing of it was stored, and the connection goes on.
    const history = (await a.query('chat.history', { roomId: room.id })) as { content: string }[];
    expect(history.map((m) => m.content)).toEqual(['hello']);
    expect(await a.query('users.me')).toMatchObject({ id: alice.id });
    // Well-formed text beyond the BMP passes.
    expect(await send(a, room.id, 'pair 😀 ok')).toMatchObject({ content: 'pair 😀 ok' });
  });
});

describe('a frame over 1 MiB', () => {
  it('fails that call with PAYLOAD_TOO_LARGE; the stock client keeps its socket and its stream', async () => {
    const alice = await registerUser(server, 'alice');
    await using a = await connectDevice(server, alice.token);
    const room = await createRoom(a, { name: 'big', memberIds: [] });
    const stream = openChatStream(a);
    await stream.ready();
    const huge = 'y'.repeat(1536 * 1024);
    expect(await failureOf(send(a, room.id, huge))).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    await send(a, room.id, 'still here');
    await stream.untilMessages(1);
    expect(stream.messages()).toEqual(['still here']);
    expect(stream.errors.entries).toEqual([]);
  });
});
