import type { ChatMessage } from '@streampod/client';
import { useStreampodClient } from '@streampod/client/react';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';

/** Messages per page, the room view's first page included. */
export const PAGE_SIZE = 50;

export interface OlderMessages {
  /** Everything to show: the pages loaded here, then the live view's messages; by id. */
  readonly messages: readonly ChatMessage[];
  readonly status: 'idle' | 'loading' | 'error';
  /** The room's very first message is shown. */
  readonly atStart: boolean;
  readonly loadOlder: () => void;
}

/**
 * Older pages of history, loaded on demand before the live view's messages (the client's
 * room view keeps only its latest page and what arrives after it).
 */
export function useOlderMessages(roomId: number, live: readonly ChatMessage[], liveLoading: boolean): OlderMessages {
  const client = useStreampodClient();
  const [older, setOlder] = useState<readonly ChatMessage[]>([]);
  const [status, setStatus] = useState<OlderMessages['status']>('idle');
  const [reachedStart, setReachedStart] = useState(false);
  const busy = useRef(false);

  const liveFirst = live[0]?.id;
  // The live view reloaded its latest page after missing too much (a long disconnect): what
  // lay between our pages and it was never fetched, so our pages go rather than show a hole.
  const anchor = useRef(liveFirst);
  useEffect(() => {
    if (liveFirst !== undefined && anchor.current !== undefined && liveFirst > anchor.current) {
      setOlder([]);
      setReachedStart(false);
    }
    if (liveFirst !== undefined) anchor.current = liveFirst;
  }, [liveFirst]);

  const messages = useMemo(() => {
    if (older.length === 0) return live;
    const byId = new Map<number, ChatMessage>();
    for (const message of older) byId.set(message.id, message);
    for (const message of live) byId.set(message.id, message);
    return [...byId.values()].sort((a, b) => a.id - b.id);
  }, [older, live]);

  const oldest = messages[0]?.id;
  const loadOlder = useCallback(() => {
    if (busy.current || oldest === undefined) return;
    busy.current = true;
    setStatus('loading');
    client.chat.history({ roomId, beforeMessageId: oldest, limit: PAGE_SIZE }).then(
      (page) => {
        busy.current = false;
        setOlder((shown) => [...page, ...shown]);
        if (page.length < PAGE_SIZE) setReachedStart(true);
        setStatus('idle');
      },
      () => {
        busy.current = false;
        setStatus('error');
      },
    );
  }, [client, roomId, oldest]);

  // A first page shorter than a page is the whole room.
  const atStart = reachedStart || (older.length === 0 && !liveLoading && live.length < PAGE_SIZE);
  return { messages, status, atStart, loadOlder };
}
