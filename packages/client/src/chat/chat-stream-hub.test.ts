import { afterEach, describe, expect, it, vi } from 'vitest';
import { createChatRoom } from './chat-room.js';
import { getChatStreamHub } from './chat-stream-hub.js';
import { flush, message, messageEvent, scriptedClient } from './scripted-client.fixture.js';

const error = (code: string) => Object.assign(new Error(code), { data: { code } });

afterEach(() => {
  vi.useRealTimers();
});

describe('ChatStreamHub', () => {
  it('opens one stream for every room, loads history once it is open, and closes it after the last view', async () => {
    const { client, streams, pages, historyCalls } = scriptedClient();
    pages.set(10, [[message(1, 10)]]);
    const general = createChatRoom(client, 10);
    const random = createChatRoom(client, 20);
    expect(streams).toHaveLength(1);
    // History waits for the stream: a message sent in between would be in neither.
    expect(historyCalls).toEqual([]);
    streams[0]?.handlers.onStarted?.();
    await flush();
    expect(historyCalls.sort()).toEqual([10, 20]);

    streams[0]?.emit(5, messageEvent(5, 10));
    expect(general.getSnapshot().messages.map((m) => m.id)).toEqual([1, 5]);
    expect(random.getSnapshot().messages).toEqual([]);

    general.dispose();
    await flush();
    expect(streams[0]?.stopped).toBe(false);
    random.dispose();
    await flush();
    expect(streams[0]?.stopped).toBe(true);

    // Wanted again later: a fresh stream, not a replay of everything since.
    const again = createChatRoom(client, 10);
    expect(streams).toHaveLength(2);
    expect(streams[1]?.input).toBeUndefined();
    again.dispose();
  });

  it('listenAll hears every room, rooms nobody follows yet included, and keeps the stream open', async () => {
    const { client, streams } = scriptedClient();
    const hub = getChatStreamHub(client);
    const heard: number[] = [];
    const stop = hub.listenAll((event) => heard.push(event.conversationId));
    expect(streams).toHaveLength(1);
    streams[0]?.handlers.onStarted?.();
    streams[0]?.emit(5, messageEvent(5, 10));
    streams[0]?.emit(6, messageEvent(6, 99));
    expect(heard).toEqual([10, 99]);
    stop();
    await flush();
    expect(streams[0]?.stopped).toBe(true);
  });

  it('reloads every room on gapBefore, dropping what is older than the fresh page', async () => {
    const { client, streams, pages, historyCalls } = scriptedClient();
    pages.set(10, [
      [message(1, 10), message(2, 10)],
      [message(40, 10), message(41, 10)],
    ]);
    const general = createChatRoom(client, 10);
    const random = createChatRoom(client, 20);
    streams[0]?.handlers.onStarted?.();
    await flush();
    expect(general.getSnapshot().messages.map((m) => m.id)).toEqual([1, 2]);

    streams[0]?.emit(41, messageEvent(41, 10, { gapBefore: true }));
    streams[0]?.emit(42, messageEvent(42, 10));
    await flush();
    expect(historyCalls.filter((r) => r === 10)).toHaveLength(2);
    expect(historyCalls.filter((r) => r === 20)).toHaveLength(2);
    // 3…39 may exist, unseen: 1 and 2 would sit above a hole.
    expect(general.getSnapshot().messages.map((m) => m.id)).toEqual([40, 41, 42]);
    general.dispose();
    random.dispose();
  });

  it('reopens a stream the server ended, resuming after the last event, without reloading', async () => {
    vi.useFakeTimers();
    const { client, streams, historyCalls } = scriptedClient();
    const view = createChatRoom(client, 10);
    streams[0]?.handlers.onStarted?.();
    streams[0]?.emit(7, messageEvent(7, 10));
    streams[0]?.handlers.onComplete?.();
    await vi.advanceTimersByTimeAsync(300);
    expect(streams).toHaveLength(2);
    expect(streams[1]?.input).toEqual({ lastEventId: '7' });
    streams[1]?.handlers.onStarted?.();
    streams[1]?.emit(8, messageEvent(8, 10));
    await vi.advanceTimersByTimeAsync(0);
    expect(historyCalls).toEqual([10]);
    expect(view.getSnapshot().messages.map((m) => m.id)).toEqual([7, 8]);
    expect(getChatStreamHub(client).streamsOpened).toBe(2);
    view.dispose();
  });

  it('keeps a stream that reported complete but started again (a client reconnect)', async () => {
    vi.useFakeTimers();
    const { client, streams } = scriptedClient();
    const view = createChatRoom(client, 10);
    streams[0]?.handlers.onStarted?.();
    streams[0]?.handlers.onComplete?.();
    streams[0]?.handlers.onStarted?.();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(streams).toHaveLength(1);
    view.dispose();
  });

  it('shows a refusal as the error of every view', async () => {
    const { client, streams } = scriptedClient();
    const view = createChatRoom(client, 10);
    streams[0]?.handlers.onError?.(error('UNAUTHORIZED') as never);
    expect(view.getSnapshot()).toMatchObject({ isLoading: false, error: { message: 'UNAUTHORIZED' } });
    view.dispose();
  });
});

describe('ChatRoomView snapshots', () => {
  it('is the same object until something changes', async () => {
    const { client, streams, pages, delivered } = scriptedClient();
    pages.set(10, [[message(1, 10)]]);
    const view = createChatRoom(client, 10);
    streams[0]?.handlers.onStarted?.();
    await flush();
    const loaded = view.getSnapshot();
    expect(loaded.isLoading).toBe(false);
    await flush(); // the delivery receipt goes out on the next tick
    expect(delivered).toEqual([1]);

    streams[0]?.emit(1, messageEvent(1, 10)); // a message already shown
    const reaction = { conversationId: 10, timestamp: new Date(), senderId: 2, messageId: 1, emoji: '🎉' };
    streams[0]?.emit(1, { type: 'reaction', ...reaction, removed: true }); // removing what is not there
    streams[0]?.emit(1, {
      type: 'presence',
      conversationId: 10,
      timestamp: new Date(),
      senderId: 2,
      presenceStatus: 'away',
    });
    expect(view.getSnapshot()).toBe(loaded);

    streams[0]?.emit(1, { type: 'reaction', ...reaction, removed: false });
    const reacted = view.getSnapshot();
    expect(reacted).not.toBe(loaded);
    expect(reacted.reactions).toEqual({ 1: { '🎉': [2] } });
    expect(reacted.messages).toBe(loaded.messages);

    const read = { conversationId: 10, timestamp: new Date(), senderId: 2 };
    streams[0]?.emit(1, { type: 'read', ...read, messageId: 1 });
    streams[0]?.emit(1, { type: 'delivered', ...read, messageId: 1 }); // behind the read: no change
    expect(view.getSnapshot().receipts).toEqual({ 2: { readMessageId: 1, deliveredMessageId: 1 } });
    view.dispose();
  });
});
