// The chat server itself: `chat.stream` subscribers in one room, each message stored with
// `chat.sendMessage`'s own service call (membership check, idempotent insert, broadcast)
// on the embedded database, then delivered to every member's stream. So its CPU per
// delivery includes storing the message, which the other servers do not do.
//
// `--users <n>` members are created before listening; their tokens go to the generator
// on one `tokens` line. The sender is one more member, never connected.
import { randomUUID } from 'node:crypto';
import { createLogger } from '@streampod/framework';
import { appEndpoints, createAppServices, openDatabase, sp, TokenService } from '@streampod/server';
import { messageOf, serve } from './common.js';

const users = Number(process.argv[process.argv.indexOf('--users') + 1]);
const database = await openDatabase({ dataDir: 'memory' });
const log = createLogger('silent');
const tokens = new TokenService({ secret: new TextEncoder().encode('bench-secret-bench-secret-bench-secret') });
const app = await createAppServices({ nodeId: 'bench', db: database.db, log, tokens });
const rows = await database.db
  .insertInto('users')
  .values(
    Array.from({ length: users + 1 }, (_, i) => ({
      username: `u${i}`,
      usernameKey: `u${i}`,
      displayName: `User ${i}`,
      passwordHash: 'x',
    })),
  )
  .returning(['id', 'username'])
  .execute();
const [sender, ...members] = rows;
const room = await app.services.chat.createRoom(sender!.id, { name: 'bench', memberIds: members.map((m) => m.id) });
const server = sp.server({
  endpoints: appEndpoints,
  services: app.services,
  authenticate: (token) => tokens.verify(token),
  hooks: app.hooks,
  logger: log,
  health: app.health,
});
const { port } = await server.listen({ port: 0, host: '127.0.0.1' });
const issued = await Promise.all(members.map((m) => tokens.issue({ id: m.id, username: m.username })));
console.log(`tokens ${issued.join(',')}`);
serve(port, async (i) => {
  await app.services.chat.sendMessage(sender!.id, {
    roomId: room.id,
    content: messageOf(i).content,
    clientMessageId: randomUUID(),
  });
});
