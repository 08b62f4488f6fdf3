// The chat server itself: `chat.stream` subscribers in one room, each message stored with
// `chat.sendMessage`'s own service call (membership check, idempotent insert, broadcast)
// on the embedded database, then delivered to every member's stream. So its CPU per
// delivery includes storing the message, which the other servers do not do.
//
// `--users <n>` members are created before listening; their tokens go to the generator
// on one `tokens` line. The sender is one more member, never connected.
import { randomUUID } from 'node:crypto';
import { benchChatServer } from '../chat-app.js';
import { messageOf, serve } from './common.js';

const count = Number(process.argv[process.argv.indexOf('--users') + 1]);
const { server, services, tokens, users } = await benchChatServer({ users: count + 1 });
const [sender, ...members] = users;
const room = await services.chat.createRoom(sender!.id, { name: 'bench', memberIds: members.map((m) => m.id) });
const { port } = await server.listen({ port: 0, host: '127.0.0.1' });
const issued = await Promise.all(members.map((m) => tokens.issue({ id: m.id, username: m.username })));
console.log(`tokens ${issued.join(',')}`);
serve(port, async (i) => {
  await services.chat.sendMessage(sender!.id, {
    roomId: room.id,
    content: messageOf(i).content,
    clientMessageId: randomUUID(),
  });
});
