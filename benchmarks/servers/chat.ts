// The chat server itself: `chat.stream` subscribers in one room, each message stored with
// `chat.sendMessage`'s own service call (membership check, idempotent insert, broadcast)
// on the embedded database, then delivered to every member's stream. So its CPU per
// delivery includes storing the message, which the other servers do not do.
//
// `--users <n>` members are created before listening; their tokens go to the generator
// on one `tokens` line. The sender is one more member, never connected. With `--rooms <k>`
// the members are in k rooms instead, and each has a room of its own with the sender (its
// personal stream): publish i is one message to room i % k and one to member i % n's own.
import { randomUUID } from 'node:crypto';
import { benchChatServer } from '../chat-app.js';
import { messageOf, ROOMS, serve } from './common.js';

const count = Number(process.argv[process.argv.indexOf('--users') + 1]);
const { server, services, tokens, users } = await benchChatServer({ users: count + 1 });
const [sender, ...members] = users;
const roomOf = async (name: string, of: typeof members) =>
  (await services.chat.createRoom(sender!.id, { name, memberIds: of.map((m) => m.id) })).id;
const rooms: number[] = [];
const personal: number[] = [];
if (ROOMS === undefined) rooms.push(await roomOf('bench', members));
else {
  const k = ROOMS;
  for (let r = 0; r < k; r++)
    rooms.push(
      await roomOf(
        `room ${r}`,
        members.filter((_, i) => i % k === r),
      ),
    );
  for (const [i, member] of members.entries()) personal.push(await roomOf(`personal ${i}`, [member]));
}
const { port } = await server.listen({ port: 0, host: '127.0.0.1' });
const issued = await Promise.all(members.map((m) => tokens.issue({ id: m.id, username: m.username })));
console.log(`tokens ${issued.join(',')}`);
const send = async (roomId: number, content: string) => {
  await services.chat.sendMessage(sender!.id, { roomId, content, clientMessageId: randomUUID() });
};
serve(port, async (i) => {
  const { content } = messageOf(i);
  if (ROOMS === undefined) return send(rooms[0]!, content);
  await Promise.all([send(rooms[i % ROOMS]!, content), send(personal[i % count]!, content)]);
});
