// @vitest-environment happy-dom
import { itWithDatabase as it, startChatTestServer } from '@streampod/server/testing';
import { act, createElement, type ReactElement } from 'react';
import { render } from './render.fixture.js';
import { describe, expect } from 'vitest';
import { watchChatRoom } from '../chat/chat-room-watch.js';
import { getChatStreamHub } from '../chat/chat-stream-hub.js';
import { chatPair, untilSnapshot } from '../chat/test-chat.fixture.js';
import { createTypingNotifier, formatTyping } from '../chat/typing.js';
import { StreampodProvider } from './streampod-provider.js';
import { useChatRoom, type ChatRoomState } from './use-chat-room.js';
import { useTyping, type TypingState } from './use-typing.js';

// Tells React this is a test, so `act` flushes renders and effects.
(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;

/** A room as a chat screen shows it: messages, then pending ones; each render's state goes to `states`. */
function Room(props: { roomId: number; states?: ChatRoomState[] }): ReactElement {
  const room = useChatRoom(props.roomId);
  props.states?.push(room);
  const lines = [...room.messages.map((m) => m.content), ...room.pending.map((p) => `${p.content} (${p.status})`)];
  return createElement('p', null, room.isLoading ? 'loading' : lines.join('|'));
}

/** The line under the messages; the last render's typing state goes to `typing.current`. */
function TypingLine(props: { roomId: number; typing: { current?: TypingState } }): ReactElement {
  const typing = useTyping(props.roomId);
  props.typing.current = typing;
  return createElement('i', null, formatTyping(typing.typingNames));
}

describe('useChatRoom (React)', () => {
  it('renders the history, then a message another user sent, and our own once', async ({ database }) => {
    await using server = await startChatTestServer({ database, typingTimeoutMs: 300 });
    await using t = await chatPair(server.url);
    const roomId = t.room.id;
    await t.b.chat.sendMessage({ roomId, content: 'hi alice', clientMessageId: 'r1' });
    const states: ChatRoomState[] = [];
    const tree = () => createElement(StreampodProvider, { client: t.a }, createElement(Room, { roomId, states }));
    await using app = await render(tree());
    const watch = watchChatRoom(t.a, roomId);
    await act(() => untilSnapshot(watch, (s) => !s.isLoading));
    expect(app.text()).toBe('hi alice');

    await act(async () => {
      const sent = await t.b.chat.sendMessage({ roomId, content: 'are you there?', clientMessageId: 'r2' });
      // Alice's view acknowledges it by itself; wait for that receipt, the last change coming.
      await untilSnapshot(watch, (s) => s.receipts[t.alice.id]?.deliveredMessageId === sent.id);
    });
    expect(app.text()).toBe('hi alice|are you there?');

    // Nothing new: a re-render gets the very same object.
    const shown = states.at(-1);
    await app.rerender(tree());
    expect(states.at(-1)).toBe(shown);

    let sending: Promise<unknown> = Promise.resolve();
    await act(async () => {
      sending = shown!.send('yes');
    });
    expect(app.text()).toMatch(/^hi alice\|are you there\?(\|yes \(sending\)|\|yes)$/);
    await act(async () => {
      await sending;
      await untilSnapshot(watch, (s) => s.pending.length === 0);
    });
    expect(app.text()).toBe('hi alice|are you there?|yes');
    expect(getChatStreamHub(t.a).streamsOpened).toBe(1);
  });

  it('shows who is typing, and tells the other side when we type', async ({ database }) => {
    await using server = await startChatTestServer({ database, typingTimeoutMs: 10_000 });
    await using t = await chatPair(server.url);
    const roomId = t.room.id;
    const typing: { current?: TypingState } = {};
    await using app = await render(
      createElement(
        StreampodProvider,
        { client: t.a },
        createElement(Room, { roomId }),
        createElement(TypingLine, { roomId, typing }),
      ),
    );
    const aliceRoom = watchChatRoom(t.a, roomId);
    const bobRoom = watchChatRoom(t.b, roomId);
    const stopBob = bobRoom.subscribe(() => undefined);
    const bobTyping = createTypingNotifier(t.b, roomId);
    try {
      await act(() => untilSnapshot(aliceRoom, (s) => !s.isLoading));
      await untilSnapshot(bobRoom, (s) => !s.isLoading);
      bobTyping.startTyping();
      await act(() => untilSnapshot(aliceRoom, (s) => s.typingUserIds.length === 1));
      expect(app.text()).toMatch(/^bob\d+ is typing…$/);
      bobTyping.stopTyping();
      await act(() => untilSnapshot(aliceRoom, (s) => s.typingUserIds.length === 0));
      expect(app.text()).toBe('');

      typing.current?.startTyping();
      await untilSnapshot(bobRoom, (s) => s.typingUserIds[0] === t.alice.id);
      typing.current?.stopTyping();
      await untilSnapshot(bobRoom, (s) => s.typingUserIds.length === 0);
    } finally {
      bobTyping.dispose();
      stopBob();
    }
  });
});
