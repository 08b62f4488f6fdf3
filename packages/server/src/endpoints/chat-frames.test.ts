import { OutgoingEvent } from '@streampod/framework';
import type { ChatStreamMessage } from '@streampod/protocol';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createRoom, openChatStream, send } from '../testing/chat-helpers.js';
import { connectDevice, registerUser } from '../testing/presence-helpers.js';
import { startChatTestServer, type ChatTestServer } from '../testing/test-server.js';

// Structural, not timed: one room's message reaches every `chat.stream` on the node as the
// very same bytes, serialized and encoded once, however many streams there are and
// whenever they opened. Resuming from those shared ids still replays exactly what was missed.

let server: ChatTestServer;
beforeAll(async () => {
  server = await startChatTestServer();
});
afterAll(() => server.close());

async function member(name: string) {
  const user = await registerUser(server, name);
  return { ...user, client: await connectDevice(server, user.token) };
}

it('every stream of a room gets the same bytes for a message, whenever it opened', async () => {
  const owner = await member('owner');
  const members = await Promise.all(Array.from({ length: 8 }, (_, i) => member(`m${i}`)));
  const room = await createRoom(owner.client, { name: 'frames', memberIds: members.map((m) => m.id) });
  // Half the streams open before the room has messages, half after: their starting
  // positions differ; the room's next message puts them all in one place.
  const early = members.slice(0, 4).map((m) => openChatStream(m.client));
  await Promise.all(early.map((s) => s.ready()));
  await send(owner.client, room.id, 'first');
  await Promise.all(early.map((s) => s.untilMessages(1)));
  const late = members.slice(4).map((m) => openChatStream(m.client));
  await Promise.all(late.map((s) => s.ready()));
  const streams = [...early, ...late];
  await send(owner.client, room.id, 'second');
  await Promise.all(streams.map((s) => s.untilMessages(early.includes(s) ? 2 : 1)));

  const frame = vi.spyOn(OutgoingEvent.prototype, 'frameOrParts');
  try {
    await send(owner.client, room.id, 'third');
    await Promise.all(streams.map((s) => s.untilEvent((e) => e.type === 'message' && e.content === 'third')));
    const bytes = frame.mock.results.flatMap((result, i) => {
      const event = frame.mock.contexts[i] as OutgoingEvent<ChatStreamMessage>;
      return event.value.type === 'message' && event.value.content === 'third' ? [result.value as Uint8Array] : [];
    });
    expect(bytes).toHaveLength(streams.length);
    expect(new Set(bytes).size).toBe(1);
    expect(new Set(streams.map((s) => s.lastId())).size).toBe(1);
  } finally {
    frame.mockRestore();
  }

  // A late stream resumes from the shared id: it gets what it missed, once, nothing older.
  const resumeFrom = late[0]!.lastId()!;
  late[0]!.stop();
  await send(owner.client, room.id, 'fourth');
  await early[0]!.untilMessages(4);
  const resumed = openChatStream(members[4]!.client, { lastEventId: resumeFrom });
  await resumed.untilMessages(1);
  await send(owner.client, room.id, 'fifth');
  await resumed.untilMessages(2);
  expect(resumed.messages()).toEqual(['fourth', 'fifth']);
  const catchUp = resumed.events.entries.flatMap((e) => (e.event.type === 'message' ? [e.event.isCatchup] : []));
  expect(catchUp).toEqual([true, undefined]);
});

it('a stream with a room that has said nothing since it opened keeps its own id, and resumes exactly', async () => {
  const owner = await member('owner');
  const both = await member('both');
  const quiet = await createRoom(owner.client, { name: 'quiet', memberIds: [both.id] });
  await send(owner.client, quiet.id, 'old quiet');
  const busy = await createRoom(owner.client, { name: 'busy', memberIds: [both.id] });
  await send(owner.client, busy.id, 'old busy');
  const stream = openChatStream(both.client);
  await stream.ready();
  await send(owner.client, busy.id, 'one');
  await stream.untilMessages(1);
  const resumeFrom = stream.lastId()!;
  stream.stop();
  await send(owner.client, quiet.id, 'two');
  await send(owner.client, busy.id, 'three');
  const resumed = openChatStream(both.client, { lastEventId: resumeFrom });
  await resumed.untilMessages(2);
  expect(resumed.messages()).toEqual(['two', 'three']);
});
