import type { ChatStreamMessage } from '@streampod/protocol';
import { Recorder } from '@streampod/framework/testing';
import { itWithDatabase as it, startChatTestServer } from '@streampod/server/testing';
import { describe, expect } from 'vitest';
import { createChatRoom } from './chat-room.js';
import { getChatStreamHub } from './chat-stream-hub.js';
import { chatPair, contents, untilSnapshot } from './test-chat.fixture.js';
import type { ChatClient, ChatRoomSnapshot } from './types.js';

const loaded = (s: ChatRoomSnapshot) => !s.isLoading;

/** Alice's client with `sendMessage` replaced: the rest (the stream included) is hers. */
function withSendMessage(client: ChatClient, sendMessage: ChatClient['chat']['sendMessage']): ChatClient {
  return { users: client.users, chat: { ...client.chat, sendMessage } };
}

describe('ChatRoomView', () => {
  it('shows the history, then live messages, in id order', async ({ database }) => {
    await using server = await startChatTestServer({ database, typingTimeoutMs: 300 });
    await using t = await chatPair(server.url);
    const roomId = t.room.id;
    await t.b.chat.sendMessage({ roomId, content: 'one', clientMessageId: 'h1' });
    await t.a.chat.sendMessage({ roomId, content: 'two', clientMessageId: 'h2' });
    const view = createChatRoom(t.a, roomId);
    try {
      expect(view.getSnapshot()).toMatchObject({ roomId, isLoading: true, messages: [], pending: [] });
      const first = await untilSnapshot(view, loaded);
      expect(contents(first)).toEqual(['one', 'two']);
      expect(first.error).toBeNull();

      await t.b.chat.sendMessage({ roomId, content: 'three', clientMessageId: 'h3' });
      const live = await untilSnapshot(view, (s) => s.messages.length === 3);
      expect(contents(live)).toEqual(['one', 'two', 'three']);
      expect(live.messages[2]).toMatchObject({ senderId: t.bob.id, chatRoomId: roomId, clientMessageId: 'h3' });
      expect(live.messages[2]?.createdAt).toBeInstanceOf(Date);
      const ids = live.messages.map((m) => m.id);
      expect(ids).toEqual([...ids].sort((x, y) => x - y));
    } finally {
      view.dispose();
    }
  });

  it('shares one chat.stream between the rooms of a client', async ({ database }) => {
    await using server = await startChatTestServer({ database, typingTimeoutMs: 300 });
    await using t = await chatPair(server.url);
    const other = await t.a.chat.createRoom({ name: 'random', memberIds: [t.bob.id] });
    const general = createChatRoom(t.a, t.room.id);
    const random = createChatRoom(t.a, other.id);
    try {
      await Promise.all([untilSnapshot(general, loaded), untilSnapshot(random, loaded)]);
      await t.b.chat.sendMessage({ roomId: other.id, content: 'in random', clientMessageId: 's1' });
      await t.b.chat.sendMessage({ roomId: t.room.id, content: 'in general', clientMessageId: 's2' });
      expect(contents(await untilSnapshot(general, (s) => s.messages.length === 1))).toEqual(['in general']);
      expect(contents(await untilSnapshot(random, (s) => s.messages.length === 1))).toEqual(['in random']);
      expect(getChatStreamHub(t.a).streamsOpened).toBe(1);
    } finally {
      general.dispose();
      random.dispose();
    }
  });

  it('shows a sent message as pending, then stored, never twice although the stream brings it too', async ({
    database,
  }) => {
    await using server = await startChatTestServer({ database, typingTimeoutMs: 300 });
    await using t = await chatPair(server.url);
    const view = createChatRoom(t.a, t.room.id);
    // Every event of the room on Alice's stream, to know when her own message came back.
    const events = new Recorder<ChatStreamMessage>();
    const stopEvents = getChatStreamHub(t.a).listen(t.room.id, {
      onEvent: (event) => events.push(event),
      onResync: () => undefined,
    });
    try {
      await untilSnapshot(view, loaded);
      const seen: ChatRoomSnapshot[] = [];
      view.onChange(() => seen.push(view.getSnapshot()));

      const sending = view.send('hello');
      const [pending] = view.getSnapshot().pending;
      expect(pending).toMatchObject({ content: 'hello', messageType: 'text', status: 'sending', error: null });
      expect(view.getSnapshot().messages).toEqual([]);

      const stored = await sending;
      expect(stored).toMatchObject({
        content: 'hello',
        senderId: t.alice.id,
        clientMessageId: pending?.clientMessageId,
      });
      await events.until((all) => all.some((e) => e.type === 'message' && e.messageId === stored?.id));

      const final = view.getSnapshot();
      expect(final.messages.map((m) => m.id)).toEqual([stored?.id]);
      expect(final.pending).toEqual([]);
      // Never shown twice, nor missing, at any moment in between.
      for (const snapshot of seen) expect(snapshot.messages.length + snapshot.pending.length).toBe(1);
    } finally {
      stopEvents();
      view.dispose();
    }
  });

  it('retries a send whose answer got lost with the same clientMessageId, storing it once', async ({ database }) => {
    await using server = await startChatTestServer({ database, typingTimeoutMs: 300 });
    await using t = await chatPair(server.url);
    const calls: string[] = [];
    let lose = 1;
    const client = withSendMessage(t.a, async (input) => {
      calls.push(input.clientMessageId);
      const stored = await t.a.chat.sendMessage(input);
      if (lose-- > 0) throw new Error('the answer got lost');
      return stored;
    });
    const view = createChatRoom(client, t.room.id, { sendRetry: { backoff: { initialDelayMs: 1, maxDelayMs: 5 } } });
    try {
      await untilSnapshot(view, loaded);
      // Mute the room on this connection's stream, so only the retry can bring the message back.
      await t.a.chat.sendStreamMessage({ type: 'subscription', roomId: t.room.id, subscribe: false });

      const stored = await view.send('only once');
      expect(calls).toHaveLength(2);
      expect(calls[1]).toBe(calls[0]);
      expect(stored?.clientMessageId).toBe(calls[0]);
      expect(contents(view.getSnapshot())).toEqual(['only once']);
      expect(view.getSnapshot().pending).toEqual([]);
      const history = await t.b.chat.history({ roomId: t.room.id });
      expect(history.map((m) => m.content)).toEqual(['only once']);
    } finally {
      view.dispose();
    }
  });

  it('marks a send failed after its attempts, and retry sends it again with the same id', async ({ database }) => {
    await using server = await startChatTestServer({ database, typingTimeoutMs: 300 });
    await using t = await chatPair(server.url);
    const calls: string[] = [];
    let refuse = 2;
    const client = withSendMessage(t.a, (input) => {
      calls.push(input.clientMessageId);
      return refuse-- > 0 ? Promise.reject(new Error('offline')) : t.a.chat.sendMessage(input);
    });
    const view = createChatRoom(client, t.room.id, {
      sendRetry: { attempts: 2, backoff: { initialDelayMs: 1, maxDelayMs: 5 } },
    });
    try {
      await untilSnapshot(view, loaded);
      expect(await view.send('later')).toBeUndefined();
      const [failed] = view.getSnapshot().pending;
      expect(failed).toMatchObject({ content: 'later', status: 'failed', error: { message: 'offline' } });

      const retried = view.retry(failed?.clientMessageId ?? '');
      expect(view.getSnapshot().pending[0]).toMatchObject({ status: 'sending', error: null });
      expect(await retried).toMatchObject({ content: 'later', clientMessageId: failed?.clientMessageId });
      expect(calls).toEqual([failed?.clientMessageId, failed?.clientMessageId, failed?.clientMessageId]);
      await untilSnapshot(view, (s) => s.pending.length === 0 && s.messages.length === 1);

      // A refusal (empty content is BAD_REQUEST) fails at once: another attempt cannot help.
      calls.length = 0;
      expect(await view.send('')).toBeUndefined();
      expect(calls).toHaveLength(1);
      expect(view.getSnapshot().pending[0]).toMatchObject({
        status: 'failed',
        error: { data: { code: 'BAD_REQUEST' } },
      });
    } finally {
      view.dispose();
    }
  });

  it('acknowledges delivery by itself, and shows read receipts and reactions', async ({ database }) => {
    await using server = await startChatTestServer({ database, typingTimeoutMs: 300 });
    await using t = await chatPair(server.url);
    const aliceView = createChatRoom(t.a, t.room.id);
    const bobView = createChatRoom(t.b, t.room.id);
    try {
      await Promise.all([untilSnapshot(aliceView, loaded), untilSnapshot(bobView, loaded)]);
      const sent = await bobView.send('did you get this?');
      const id = sent?.id ?? -1;

      const delivered = await untilSnapshot(bobView, (s) => s.receipts[t.alice.id]?.deliveredMessageId === id);
      expect(delivered.receipts[t.alice.id]).toEqual({ deliveredMessageId: id, readMessageId: null });
      // Bob does not acknowledge his own message.
      expect(delivered.receipts[t.bob.id]).toBeUndefined();

      expect(await aliceView.markRead()).toBe(true);
      await untilSnapshot(bobView, (s) => s.receipts[t.alice.id]?.readMessageId === id);

      await t.b.chat.react({ messageId: id, emoji: '👍' });
      await untilSnapshot(aliceView, (s) => s.reactions[id]?.['👍']?.[0] === t.bob.id);
      await t.b.chat.react({ messageId: id, emoji: '👍', removed: true });
      await untilSnapshot(aliceView, (s) => s.reactions[id] === undefined);
    } finally {
      aliceView.dispose();
      bobView.dispose();
    }
  });

  it('shows the stored receipts and reactions when a room is opened later (after a reload)', async ({ database }) => {
    await using server = await startChatTestServer({ database });
    await using t = await chatPair(server.url);
    const first = await t.a.chat.sendMessage({ roomId: t.room.id, content: 'one', clientMessageId: 'r1' });
    const second = await t.a.chat.sendMessage({ roomId: t.room.id, content: 'two', clientMessageId: 'r2' });
    await t.b.chat.markRead({ roomId: t.room.id, messageId: first.id });
    await t.b.chat.markDelivered({ roomId: t.room.id, messageId: second.id });
    await t.b.chat.react({ messageId: first.id, emoji: '👍' });
    const view = createChatRoom(t.a, t.room.id);
    try {
      const shown = await untilSnapshot(view, loaded);
      expect(contents(shown)).toEqual(['one', 'two']);
      expect(shown.receipts[t.bob.id]).toEqual({ readMessageId: first.id, deliveredMessageId: second.id });
      expect(shown.reactions).toEqual({ [first.id]: { '👍': [t.bob.id] } });
    } finally {
      view.dispose();
    }
  });

  it('ends with every message exactly once when the client reconnects while the other user sends', async ({
    database,
  }) => {
    await using server = await startChatTestServer({ database, typingTimeoutMs: 300 });
    await using t = await chatPair(server.url);
    const roomId = t.room.id;
    const view = createChatRoom(t.a, roomId);
    try {
      await untilSnapshot(view, loaded);
      const expected = Array.from({ length: 30 }, (_, i) => `m${i}`);
      const sending = (async () => {
        for (const content of expected) await t.b.chat.sendMessage({ roomId, content, clientMessageId: content });
      })();
      for (const after of [3, 10, 20]) {
        await untilSnapshot(view, (s) => s.messages.length >= after);
        t.a.reconnect();
      }
      await sending;
      await untilSnapshot(view, (s) => s.messages.length >= expected.length);
      // One more, after everything: anything repeated would have arrived by now.
      await t.b.chat.sendMessage({ roomId, content: 'last', clientMessageId: 'last' });
      const final = await untilSnapshot(view, (s) => s.messages.at(-1)?.content === 'last');
      expect(contents(final)).toEqual([...expected, 'last']);
      expect(final.pending).toEqual([]);
      expect(final.error).toBeNull();
    } finally {
      view.dispose();
    }
  });

  it('keeps following a room after a reconnect, a release of every view and a new view', async ({ database }) => {
    await using server = await startChatTestServer({ database, typingTimeoutMs: 300 });
    await using t = await chatPair(server.url);
    const roomId = t.room.id;
    const first = createChatRoom(t.a, roomId);
    await untilSnapshot(first, loaded);
    t.a.reconnect();
    await t.b.chat.sendMessage({ roomId, content: 'after the reconnect', clientMessageId: 'k1' });
    await untilSnapshot(first, (s) => s.messages.length === 1);
    first.dispose();
    // The stream is released, then wanted again on the same connection.
    await Promise.resolve();
    const view = createChatRoom(t.a, roomId);
    try {
      expect(contents(await untilSnapshot(view, loaded))).toEqual(['after the reconnect']);
      await t.b.chat.sendMessage({ roomId, content: 'live again', clientMessageId: 'k2' });
      const final = await untilSnapshot(view, (s) => s.messages.length === 2);
      expect(contents(final)).toEqual(['after the reconnect', 'live again']);
      expect(final.error).toBeNull();
    } finally {
      view.dispose();
    }
  });
});
