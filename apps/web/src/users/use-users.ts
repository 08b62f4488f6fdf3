import type { ChatUser } from '@streampod/client';
import { useEffect, useSyncExternalStore } from 'react';
import type { UserDirectory } from './user-directory';

/** Everyone the directory knows, by id; asks for `ids` it does not know yet. */
export function useUsers(directory: UserDirectory, ids: readonly number[]): ReadonlyMap<number, ChatUser> {
  // Keyed on the ids' content: callers pass a fresh array each render.
  const key = [...new Set(ids)].sort((a, b) => a - b).join(',');
  useEffect(() => {
    directory.want(key === '' ? [] : key.split(',').map(Number));
  }, [directory, key]);
  return useSyncExternalStore(directory.subscribe, directory.getSnapshot, directory.getSnapshot);
}

/** A user's name as shown: their display name, or a stand-in for someone we cannot see. */
export function nameOf(users: ReadonlyMap<number, ChatUser>, userId: number): string {
  return users.get(userId)?.displayName ?? 'Former member';
}
