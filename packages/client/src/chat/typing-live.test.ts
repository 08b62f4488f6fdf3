import { itWithDatabase as it, startChatTestServer } from '@streampod/server/testing';
import { describe, expect } from 'vitest';
import { createChatRoom } from './chat-room.js';
import { chatPair, untilSnapshot } from './test-chat.fixture.js';
import { createTypingNotifier, formatTyping } from './typing.js';

describe('typing, against a server', () => {
  // A long server timeout: typing that disappears here was ended by us, not by the clock.
  it('shows who types on the other side, until they stop or send', async ({ database }) => {
    await using server = await startChatTestServer({ database, typingTimeoutMs: 10_000 });
    await using t = await chatPair(server.url);
    const aliceView = createChatRoom(t.a, t.room.id);
    const bobView = createChatRoom(t.b, t.room.id);
    const typing = createTypingNotifier(t.a, t.room.id);
    try {
      await Promise.all([untilSnapshot(aliceView, (s) => !s.isLoading), untilSnapshot(bobView, (s) => !s.isLoading)]);
      typing.startTyping();
      const shown = await untilSnapshot(bobView, (s) => s.typingUserIds.length > 0);
      expect(shown.typingUserIds).toEqual([t.alice.id]);
      expect(formatTyping(shown.typingNames)).toMatch(/^alice\d+ is typing…$/);

      typing.stopTyping();
      await untilSnapshot(bobView, (s) => s.typingUserIds.length === 0);

      // Sending ends typing too; the next keystroke starts it again at once.
      typing.startTyping();
      await untilSnapshot(bobView, (s) => s.typingUserIds.length === 1);
      await aliceView.send('done typing');
      await untilSnapshot(bobView, (s) => s.typingUserIds.length === 0 && s.messages.length === 1);
      typing.startTyping();
      await untilSnapshot(bobView, (s) => s.typingUserIds.length === 1);

      // Alice never sees her own typing.
      expect(aliceView.getSnapshot().typingUserIds).toEqual([]);
    } finally {
      typing.dispose();
      aliceView.dispose();
      bobView.dispose();
    }
  });
});
