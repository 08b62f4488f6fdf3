import type { ChatUser, StreampodClient } from '@streampod/client';
import { createContext, useContext } from 'react';
import type { UserDirectory } from '../users/user-directory';

/** Who is signed in, and what their session shares: the client, the user directory, signing out. */
export interface Session {
  readonly client: StreampodClient;
  readonly me: ChatUser;
  readonly directory: UserDirectory;
  readonly signOut: () => void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (session === null) throw new Error('useSession: not inside a signed-in session');
  return session;
}
