import type { ChatMessage } from '@streampod/protocol';
import { onScopeDispose, shallowRef, toValue, watch, type MaybeRefOrGetter, type Ref } from 'vue';
import type { StreampodClient } from '../client.js';
import { watchChatRoom } from '../chat/chat-room-watch.js';
import type { SendOptions } from '../chat/outbox.js';
import { createTypingNotifier, type TypingNotifier } from '../chat/typing.js';
import { loadingSnapshot, type ChatRoomSnapshot } from '../chat/types.js';
import { useStreampodClient } from './streampod-plugin.js';
import { followStore } from './use-subscription.js';

/** What `useChatRoom` gives: the room's snapshot as a ref, and its actions. */
export interface UseChatRoomResult {
  /** Messages, pending sends, typing, receipts and reactions: a new object when something changed. */
  readonly room: Readonly<Ref<ChatRoomSnapshot>>;
  /** Shows the message as pending at once; resolves with the stored one, or `undefined` if it failed. */
  readonly send: (content: string, opts?: SendOptions) => Promise<ChatMessage | undefined>;
  /** Sends a failed message again, with the same `clientMessageId`. */
  readonly retry: (clientMessageId: string) => Promise<ChatMessage | undefined>;
  /** Marks the room read up to `messageId` (default: the newest message). */
  readonly markRead: (messageId?: number) => Promise<boolean>;
}

/**
 * One room, live (`roomId` may be a ref or getter: changing it follows the new room).
 * Components showing the same room share one view, and every room of the client shares
 * one `chat.stream`. Call it inside `setup`: the view is released with that scope.
 */
export function useChatRoom(roomId: MaybeRefOrGetter<number>): UseChatRoomResult {
  const client = useStreampodClient<StreampodClient>();
  const room = shallowRef(loadingSnapshot(toValue(roomId)));
  const current = () => watchChatRoom(client, toValue(roomId));
  followStore(
    () => toValue(roomId),
    current,
    (snapshot) => (room.value = snapshot),
  );
  return {
    room,
    send: (content, opts) => current().send(content, opts),
    retry: (clientMessageId) => current().retry(clientMessageId),
    markRead: (messageId) => current().markRead(messageId),
  };
}

/** What `useTyping` gives. */
export interface UseTypingResult {
  /** Call on every keystroke; sends only what the server needs (see `createTypingNotifier`). */
  readonly startTyping: () => void;
  /** Typing stopped (sent, cleared, blurred): tells the room at once. */
  readonly stopTyping: () => void;
  /** Members typing now, never ourselves. */
  readonly typingUserIds: Readonly<Ref<readonly number[]>>;
  /** Their names, in the same order: `formatTyping(typingNames.value)`. */
  readonly typingNames: Readonly<Ref<readonly string[]>>;
}

/**
 * Typing in one room: tells the room when we type, and who else is. Who is typing comes
 * from the room's shared view (the one `useChatRoom` shows), so using both costs one view.
 */
export function useTyping(roomId: MaybeRefOrGetter<number>): UseTypingResult {
  const client = useStreampodClient<StreampodClient>();
  const typingUserIds = shallowRef<readonly number[]>([]);
  const typingNames = shallowRef<readonly string[]>([]);
  followStore(
    () => toValue(roomId),
    () => watchChatRoom(client, toValue(roomId)),
    (snapshot) => {
      typingUserIds.value = snapshot.typingUserIds;
      typingNames.value = snapshot.typingNames;
    },
  );
  let notifier: TypingNotifier | undefined;
  watch(
    () => toValue(roomId),
    (id) => {
      notifier?.dispose();
      notifier = createTypingNotifier(client, id);
    },
    { immediate: true },
  );
  onScopeDispose(() => notifier?.dispose());
  return {
    startTyping: () => notifier?.startTyping(),
    stopTyping: () => notifier?.stopTyping(),
    typingUserIds,
    typingNames,
  };
}
