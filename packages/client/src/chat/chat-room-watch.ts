import type { ChatMessage } from '@streampod/protocol';
import { holdWhileListening, SharedByKey } from '../runtime/shared.js';
import { ChatRoomView } from './chat-room.js';
import type { SendOptions } from './outbox.js';
import { loadingSnapshot, type ChatClient, type ChatRoomSnapshot } from './types.js';

/**
 * A subscribe/getSnapshot pair for one room, for framework hooks, plus the room's actions.
 * Every function is plain and stable: safe to pass around detached.
 */
export interface ChatRoomWatch {
  readonly roomId: number;
  /** Starts (or joins) the room's shared view; `listener` runs whenever its snapshot changes. */
  readonly subscribe: (listener: () => void) => () => void;
  /** The current snapshot; the same object as long as nothing changed. */
  readonly getSnapshot: () => ChatRoomSnapshot;
  /** `ChatRoomView.send`; resolves with `undefined` while nobody is subscribed. */
  readonly send: (content: string, opts?: SendOptions) => Promise<ChatMessage | undefined>;
  /** `ChatRoomView.retry`. */
  readonly retry: (clientMessageId: string) => Promise<ChatMessage | undefined>;
  /** `ChatRoomView.markRead`; resolves with false while nobody is subscribed. */
  readonly markRead: (messageId?: number) => Promise<boolean>;
}

const roomsByClient = new WeakMap<ChatClient, SharedByKey<number, ChatRoomView>>();

function roomsOf(client: ChatClient): SharedByKey<number, ChatRoomView> {
  let rooms = roomsByClient.get(client);
  if (rooms === undefined) {
    rooms = new SharedByKey(
      (roomId) => new ChatRoomView({ client, roomId }),
      (view) => view.dispose(),
    );
    roomsByClient.set(client, rooms);
  }
  return rooms;
}

/**
 * Watches a room through one `ChatRoomView` per client and room, shared by every
 * subscriber (two components showing a room load its history once and show the same
 * pending messages). The view is created by the first `subscribe` and disposed a
 * microtask after the last one leaves, so React StrictMode's unsubscribe-and-subscribe-
 * again keeps it.
 */
export function watchChatRoom(client: ChatClient, roomId: number): ChatRoomWatch {
  const rooms = roomsOf(client);
  const loading = loadingSnapshot(roomId);
  const current = () => rooms.get(roomId);
  return {
    roomId,
    subscribe: holdWhileListening(rooms, roomId, (view, listener) => view.onChange(listener)),
    getSnapshot: () => current()?.getSnapshot() ?? loading,
    send: (content, opts) => current()?.send(content, opts) ?? Promise.resolve(undefined),
    retry: (clientMessageId) => current()?.retry(clientMessageId) ?? Promise.resolve(undefined),
    markRead: (messageId) => current()?.markRead(messageId) ?? Promise.resolve(false),
  };
}
