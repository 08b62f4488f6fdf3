import { useCallback, useEffect, useState } from 'react';

/** `/rooms/12` → 12; anything else → null. */
function roomIdOf(pathname: string): number | null {
  const match = /^\/rooms\/(\d+)\/?$/.exec(pathname);
  return match?.[1] === undefined ? null : Number(match[1]);
}

export function roomPath(roomId: number): string {
  return `/rooms/${roomId}`;
}

export type Navigate = (roomId: number | null, opts?: { replace?: boolean }) => void;

/**
 * The open room, from the address bar (`/rooms/:id`), so a room can be bookmarked, reloaded
 * (the server answers any path without an extension with the app) and reached with Back.
 */
export function useRoomRoute(): [number | null, Navigate] {
  const [roomId, setRoomId] = useState(() => roomIdOf(window.location.pathname));
  useEffect(() => {
    const onPop = () => setRoomId(roomIdOf(window.location.pathname));
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  const navigate = useCallback<Navigate>((next, opts) => {
    const path = next === null ? '/' : roomPath(next);
    if (path !== window.location.pathname) {
      if (opts?.replace === true) window.history.replaceState(null, '', path);
      else window.history.pushState(null, '', path);
    }
    setRoomId(next);
  }, []);
  return [roomId, navigate];
}
