import { useEffect } from 'react';

/**
 * Marks the room read up to its newest message whenever one arrives while the page is
 * visible, and when the page becomes visible again; `onRead` runs after the server took it.
 */
export function useMarkRead(newestId: number | undefined, markRead: () => Promise<boolean>, onRead: () => void): void {
  useEffect(() => {
    if (newestId === undefined) return;
    const mark = () => {
      if (document.visibilityState !== 'visible') return;
      void markRead().then((ok) => ok && onRead());
    };
    mark();
    document.addEventListener('visibilitychange', mark);
    return () => document.removeEventListener('visibilitychange', mark);
  }, [newestId, markRead, onRead]);
}
