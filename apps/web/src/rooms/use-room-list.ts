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
 * Being added to a room shows up with the room's first message (the chat stream carries
 * it); a room added to in silence, by the next poll.
 */
const POLL_MS = 60_000;

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

  // Every room's events on the client's shared chat stream (no extra subscription): a message
  // from someone else in a room not open moves its badge; one in a room not listed yet means
  // we were added to it.
  const roomsRef = useRef(rooms);
  useEffect(() => {
    roomsRef.current = rooms;
  }, [rooms]);
  useEffect(
    () =>
      getChatStreamHub(client).listenAll((event) => {
        if (event.type !== 'message') return;
        const known = roomsRef.current?.some((room) => room.id === event.conversationId) ?? true;
        if (!known) load();
        else if (event.senderId !== me.id && event.conversationId !== openRef.current) refreshSoon();
      }),
    [client, me.id, load, refreshSoon],
  );

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
