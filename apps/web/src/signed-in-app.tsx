import { createStreampodClient, type ChatUser, type StreampodClient } from '@streampod/client';
import { StreampodProvider } from '@streampod/client/react';
import { useEffect, useMemo, useState, type ReactElement } from 'react';
import { errorCode } from './session/errors';
import { serverUrl } from './session/server-url';
import { SessionContext, type Session } from './session/session-context';
import { ChatShell } from './shell/chat-shell';
import { UserDirectory } from './users/user-directory';

/** The chat for one token: its own client (closed when signing out), once the server says who we are. */
export function SignedInApp(props: { token: string; onSignOut: () => void }): ReactElement {
  const { token, onSignOut } = props;
  const [client, setClient] = useState<StreampodClient | null>(null);
  const [me, setMe] = useState<ChatUser | null>(null);

  // Made in an effect, not during render: React may render and throw away, and a client holds a socket.
  useEffect(() => {
    const created = createStreampodClient({
      url: serverUrl,
      token,
      // A chat should come back soon after the network does: retry at least every 5 s.
      reconnect: { initialDelayMs: 250, maxDelayMs: 5_000 },
    });
    setClient(created);
    let live = true;
    created.users.me().then(
      (user) => live && setMe(user),
      (reason: unknown) => {
        // An expired or revoked token: back to the sign-in screen. Anything else the client retries.
        if (live && errorCode(reason) === 'UNAUTHORIZED') onSignOut();
      },
    );
    return () => {
      live = false;
      setClient(null);
      void created.close();
    };
  }, [token, onSignOut]);

  const session = useMemo<Session | null>(
    () =>
      client === null || me === null
        ? null
        : { client, me, directory: new UserDirectory(client, me), signOut: onSignOut },
    [client, me, onSignOut],
  );

  if (session === null) {
    return (
      <p className="splash" aria-busy="true">
        Loading your chat…
      </p>
    );
  }
  return (
    <StreampodProvider client={session.client}>
      <SessionContext.Provider value={session}>
        <ChatShell />
      </SessionContext.Provider>
    </StreampodProvider>
  );
}
