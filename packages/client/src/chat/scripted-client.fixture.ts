import type { ChatMessage, ChatStreamMessage } from '@streampod/protocol';
import type { SubscriptionHandlers } from '../runtime/subscription.js';
import type { ChatClient } from './types.js';

// A chat client whose stream and answers the test drives by hand (`.fixture.ts`: kept out of
// the build). The transport is not the subject of these tests (the others use a server).

export interface ScriptedStream {
  readonly input: unknown;
  handlers: SubscriptionHandlers<ChatStreamMessage>;
  lastEventId: string | undefined;
  stopped: boolean;
  /** Delivers `event` under the tracked id `id`. */
  emit(id: number, event: ChatStreamMessage): void;
}

export const ME = 1;
export const OTHER = 2;

/** A stored message of `roomId` from `senderId` (default: the other user). */
export function message(id: number, roomId: number, senderId = OTHER): ChatMessage {
  return {
    id,
    chatRoomId: roomId,
    senderId,
    content: `m${id}`,
    messageType: 'text',
    clientMessageId: `c${id}`,
    createdAt: new Date(id),
  };
}

/** The `message` event announcing `message(id, roomId)`. */
export function messageEvent(id: number, roomId: number, extra: { gapBefore?: boolean } = {}): ChatStreamMessage {
  const m = message(id, roomId);
  return {
    type: 'message',
    conversationId: roomId,
    timestamp: m.createdAt,
    messageId: id,
    senderId: m.senderId,
    senderName: 'Other',
    content: m.content,
    messageType: 'text',
    clientMessageId: m.clientMessageId,
    ...extra,
  };
}

export function scriptedClient() {
  const streams: ScriptedStream[] = [];
  /** History answers by room, taken in order; an empty page when none is left. */
  const pages = new Map<number, ChatMessage[][]>();
  const historyCalls: number[] = [];
  const typing: boolean[] = [];
  const delivered: number[] = [];
  const client = {
    users: { me: () => Promise.resolve({ id: ME, username: 'me', displayName: 'Me' }) },
    chat: {
      stream: (input: unknown) => {
        const stream: ScriptedStream & { listen(h: SubscriptionHandlers<ChatStreamMessage>): () => void } = {
          input,
          handlers: {},
          lastEventId: undefined,
          stopped: false,
          emit(id, event) {
            stream.lastEventId = String(id);
            stream.handlers.onData?.(event);
          },
          listen(handlers) {
            stream.handlers = handlers;
            streams.push(stream);
            return () => (stream.stopped = true);
          },
        };
        return stream;
      },
      history: (input: { roomId: number }) => {
        historyCalls.push(input.roomId);
        return Promise.resolve(pages.get(input.roomId)?.shift() ?? []);
      },
      receipts: () => Promise.resolve([]),
      markDelivered: (input: { messageId: number }) => {
        delivered.push(input.messageId);
        return Promise.resolve();
      },
      sendStreamMessage: (input: { isTyping: boolean }) => {
        typing.push(input.isTyping);
        return Promise.resolve();
      },
    },
  } as unknown as ChatClient;
  return { client, streams, pages, historyCalls, typing, delivered };
}

/** Lets queued microtasks (the hub's delayed release, resolved answers) run. */
export const flush = () => new Promise<void>((resolve) => setTimeout(resolve, 0));
