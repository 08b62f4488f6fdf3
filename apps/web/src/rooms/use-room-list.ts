import { getChatStreamHub, type ChatRoom } from '@streampod/client';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { Session } from '../session/session-context';

export interface RoomList {
  /** The caller's rooms, with unread counts; null until first loaded. */
  readonly rooms: readonly ChatRoom[] | null;
  readonly error: string | null;
  /** Asks the server again, soon (after reading, or adding people). */
  readonly refresh: () => void;
  /** A room we made: listed at once, before the server is asked again. */
  readonly added: (room: ChatRoom) => void;
  /** A room we left: gone at once. */
  readonly removed: (roomId: number) => void;
}

/** How long a burst of messages in other rooms is waited out before the counts are asked for. */
const REFRESH_DEBOUNCE_MS = 300;
/**
 * Being added to a room by someone else shows up here by polling: `chat.stream` carries the
 * new room's events, but the client's stream hub hands them only to rooms someone listens to.
 */
const POLL_MS = 20_000;

/**
 * The room list and its unread counts. The server keeps the counts (`chat.listRooms`
 * `unreadCount`); a message in a room that is not open makes the list ask again, so the
 * badges follow without counting anything twice here. The open room always shows 0.
 */
export function useRoomList(session: Session, openRoomId: number | null): RoomList {
  const { client, me } = session;
  const [rooms, setRooms] = useState<readonly ChatRoom[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const openRef = useRef(openRoomId);
  useEffect(() => {
    openRef.current = openRoomId;
  }, [openRoomId]);

  const load = useCallback(() => {
    clearTimeout(timer.current);
    client.chat.listRooms().then(
      (list) => {
        setRooms(list);
        setError(null);
      },
      () => setError('Could not load your rooms.'),
    );
  }, [client]);

  const refreshSoon = useCallback(() => {
    clearTimeout(timer.current);
    timer.current = setTimeout(load, REFRESH_DEBOUNCE_MS);
  }, [load]);

  useEffect(() => {
    load();
    const poll = setInterval(load, POLL_MS);
    const offConnection = client.onConnectionChange((connected) => connected && load());
    window.addEventListener('focus', load);
    return () => {
      clearInterval(poll);
      clearTimeout(timer.current);
      offConnection();
      window.removeEventListener('focus', load);
    };
  }, [client, load]);

  // One listener per room on the client's shared chat stream (no extra subscription).
  const roomKey = rooms?.map((room) => room.id).join(',') ?? '';
  useEffect(() => {
    if (roomKey === '') return;
    const hub = getChatStreamHub(client);
    const stops = roomKey.split(',').map((id) =>
      hub.listen(Number(id), {
        onEvent: (event) => {
          if (event.type === 'message' && event.senderId !== me.id && event.conversationId !== openRef.current)
            refreshSoon();
        },
        onResync: () => undefined, // the list asks for counts itself on reconnect
      }),
    );
    return () => stops.forEach((stop) => stop());
  }, [client, me.id, roomKey, refreshSoon]);

  const shown = useMemo(
    () =>
      rooms?.map((room) =>
        room.id === openRoomId && (room.unreadCount ?? 0) > 0 ? { ...room, unreadCount: 0 } : room,
      ) ?? null,
    [rooms, openRoomId],
  );
  const added = useCallback(
    (room: ChatRoom) => {
      setRooms((list) => (list === null || list.some((r) => r.id === room.id) ? list : [...list, room]));
      refreshSoon();
    },
    [refreshSoon],
  );
  const removed = useCallback(
    (roomId: number) => {
      setRooms((list) => list?.filter((r) => r.id !== roomId) ?? null);
      refreshSoon();
    },
    [refreshSoon],
  );
  return { rooms: shown, error, refresh: refreshSoon, added, removed };
}
