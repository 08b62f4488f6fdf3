import { failureOf } from '@streampod/framework/testing';
import { expect, it } from 'vitest';
import { createRoom, openChatStream, send } from '../testing/chat-helpers.js';
import { connectDevice, registerUser } from '../testing/presence-helpers.js';
import { startChatTestServer } from '../testing/test-server.js';

it('/metrics counts messages stored, typing, presence changes, refusals by code, call time by path, database time and deliveries', async () => {
  await using server = await startChatTestServer({ rateLimits: { reactions: { burst: 1, perMs: 60_000 } } });
  const alice = await registerUser(server, 'alice');
  await using a = await connectDevice(server, alice.token);
  const room = await createRoom(a, { name: 'counted', memberIds: [] });
  const stream = openChatStream(a);
  await stream.ready();
  const message = await send(a, room.id, 'one');
  await send(a, room.id, 'two');
  await stream.untilMessages(2);
  await a.mutation('chat.sendStreamMessage', { type: 'typing', roomId: room.id, isTyping: true });
  await a.mutation('chat.react', { messageId: message.id, emoji: '👍' });
  expect(await failureOf(a.mutation('chat.react', { messageId: message.id, emoji: '🎉' }))).toMatchObject({
    code: 'TOO_MANY_REQUESTS',
  });
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  expect(metrics).toMatch(/^streampod_messages_stored_total 2$/m);
  expect(metrics).toMatch(/^streampod_typing_events_total 1$/m);
  expect(metrics).toMatch(/^streampod_presence_changes_total [1-9]\d*$/m);
  expect(metrics).toMatch(/^streampod_errors_total\{path="chat\.react",code="TOO_MANY_REQUESTS"\} 1$/m);
  expect(metrics).toMatch(/^streampod_call_duration_seconds_count\{type="mutation",path="chat\.sendMessage"\} 2$/m);
  expect(metrics).toContain('# TYPE streampod_connections_refused_total counter');
  expect(metrics).toMatch(/^streampod_database_query_duration_seconds_count\{outcome="ok"\} [1-9]\d*$/m);
  expect(metrics).toMatch(/^streampod_deliveries_total [1-9]\d*$/m);
  expect(metrics).toMatch(/^streampod_unsent_bytes \d+$/m);
});
