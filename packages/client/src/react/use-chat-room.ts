import type { ChatMessage } from '@streampod/protocol';
import { useMemo, useSyncExternalStore } from 'react';
import { watchChatRoom } from '../chat/chat-room-watch.js';
import type { SendOptions } from '../chat/outbox.js';
import type { ChatRoomSnapshot } from '../chat/types.js';
import type { StreampodClient } from '../client.js';
import { useStreampodClient } from './streampod-provider.js';

/** What `useChatRoom` gives: the room's snapshot and its actions. */
export interface ChatRoomState extends ChatRoomSnapshot {
  /** Shows the message as pending at once; resolves with the stored one, or `undefined` if it failed. */
  readonly send: (content: string, opts?: SendOptions) => Promise<ChatMessage | undefined>;
  /** Sends a failed message again, with the same `clientMessageId`. */
  readonly retry: (clientMessageId: string) => Promise<ChatMessage | undefined>;
  /** Marks the room read up to `messageId` (default: the newest message). */
  readonly markRead: (messageId?: number) => Promise<boolean>;
}

/**
 * One room, live: history, then new messages, pending sends, typing users, receipts and
 * reactions. Components showing the same room share one view, and every room of the
 * provider's client shares one `chat.stream`. The result is the same object until
 * something in it changes; the actions never change for a room.
 */
export function useChatRoom(roomId: number): ChatRoomState {
  const client = useStreampodClient<StreampodClient>();
  const watch = useMemo(() => watchChatRoom(client, roomId), [client, roomId]);
  const snapshot = useSyncExternalStore(watch.subscribe, watch.getSnapshot, watch.getSnapshot);
  return useMemo(
    () => ({ ...snapshot, send: watch.send, retry: watch.retry, markRead: watch.markRead }),
    [snapshot, watch],
  );
}
