import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  ChatClientStreamMessage,
  ChatStreamMessage,
  limits,
  PresenceUserIds,
  RegisterInput,
  SendMessageInput,
  transformer,
  utf8Length,
} from './index.js';

const at = new Date('2026-01-02T03:04:05.000Z');

describe('ChatStreamMessage', () => {
  it('is a union discriminated by type, each variant with conversationId and timestamp', () => {
    const typing = ChatStreamMessage.parse({
      type: 'typing',
      conversationId: 1,
      timestamp: at,
      senderId: 2,
      senderName: 'Ann',
      isTyping: true,
    });
    expect(typing).toEqual({
      type: 'typing',
      conversationId: 1,
      timestamp: at,
      senderId: 2,
      senderName: 'Ann',
      isTyping: true,
    });
    const result = ChatStreamMessage.safeParse({ type: 'shout', conversationId: 1, timestamp: at });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['type']);
  });

  it('narrows on type', () => {
    const handle = (m: ChatStreamMessage) => {
      if (m.type === 'reaction') expectTypeOf(m.emoji).toEqualTypeOf<string>();
      if (m.type === 'presence') expectTypeOf(m.presenceStatus).toEqualTypeOf<'online' | 'away' | 'busy' | 'offline'>();
    };
    expect(handle).toBeTypeOf('function');
  });
});

describe('limits', () => {
  const send = (content: string) => SendMessageInput.safeParse({ roomId: 1, content, clientMessageId: 'c1' });

  it('caps content at 16 KiB of UTF-8, not of characters', () => {
    expect(send('a'.repeat(limits.maxContentBytes)).success).toBe(true);
    expect(send('a'.repeat(limits.maxContentBytes + 1)).success).toBe(false);
    const euros = '€'.repeat(Math.ceil(limits.maxContentBytes / 3)); // 3 bytes each
    expect(utf8Length(euros)).toBeGreaterThan(limits.maxContentBytes);
    const failure = send(euros);
    expect(failure.error?.issues[0]).toMatchObject({
      path: ['content'],
      message: 'content is longer than 16384 bytes',
    });
  });

  it('caps presence requests at 1,000 ids', () => {
    const ids = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
    expect(PresenceUserIds.safeParse({ userIds: ids(1000) }).success).toBe(true);
    expect(PresenceUserIds.safeParse({ userIds: ids(1001) }).error?.issues[0]?.message).toBe('at most 1000 ids');
  });

  it('names what is wrong with a username', () => {
    const result = RegisterInput.safeParse({ username: 'no spaces', password: 'long enough' });
    expect(result.error?.issues[0]).toMatchObject({ path: ['username'] });
  });
});

describe('ChatClientStreamMessage', () => {
  it('takes typing and (un)subscription messages only', () => {
    expect(ChatClientStreamMessage.parse({ type: 'typing', roomId: 3, isTyping: false })).toEqual({
      type: 'typing',
      roomId: 3,
      isTyping: false,
    });
    expect(ChatClientStreamMessage.safeParse({ type: 'subscription', roomId: 3 }).error?.issues[0]?.path).toEqual([
      'subscribe',
    ]);
  });
});

describe('transformer', () => {
  it('carries Dates as Dates', () => {
    const wire = JSON.stringify(transformer.serialize({ at }));
    expect(transformer.deserialize(JSON.parse(wire) as Parameters<typeof transformer.deserialize>[0])).toEqual({ at });
  });
});
