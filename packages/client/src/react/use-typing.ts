import { useCallback, useEffect, useMemo, useRef, useSyncExternalStore } from 'react';
import { watchChatRoom } from '../chat/chat-room-watch.js';
import { createTypingNotifier, type TypingNotifier } from '../chat/typing.js';
import type { StreampodClient } from '../client.js';
import { useStreampodClient } from './streampod-provider.js';

/** What `useTyping` gives. */
export interface TypingState {
  /** Call on every keystroke; sends only what the server needs (see `createTypingNotifier`). */
  readonly startTyping: () => void;
  /** Typing stopped (sent, cleared, blurred): tells the room at once. */
  readonly stopTyping: () => void;
  /** Members typing now, never ourselves. */
  readonly typingUserIds: readonly number[];
  /** Their names, in the same order: `formatTyping(typingNames)`. */
  readonly typingNames: readonly string[];
}

/**
 * Typing in one room: tells the room when we type, and who else is. Who is typing comes
 * from the room's shared view (the one `useChatRoom` shows), so using both costs one view.
 */
export function useTyping(roomId: number): TypingState {
  const client = useStreampodClient<StreampodClient>();
  const watch = useMemo(() => watchChatRoom(client, roomId), [client, roomId]);
  const snapshot = useSyncExternalStore(watch.subscribe, watch.getSnapshot, watch.getSnapshot);
  const notifier = useRef<TypingNotifier | null>(null);
  // Made in an effect, not during render: it holds the stream open until disposed.
  useEffect(() => {
    const created = createTypingNotifier(client, roomId);
    notifier.current = created;
    return () => {
      created.dispose();
      if (notifier.current === created) notifier.current = null;
    };
  }, [client, roomId]);
  const startTyping = useCallback(() => notifier.current?.startTyping(), []);
  const stopTyping = useCallback(() => notifier.current?.stopTyping(), []);
  const { typingUserIds, typingNames } = snapshot;
  return useMemo(
    () => ({ startTyping, stopTyping, typingUserIds, typingNames }),
    [startTyping, stopTyping, typingUserIds, typingNames],
  );
}
