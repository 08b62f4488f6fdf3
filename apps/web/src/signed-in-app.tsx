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
    const whoAmI = () =>
      created.users.me().then(
        (user) => live && setMe(user),
        (reason: unknown) => {
          // An expired or revoked token: back to the sign-in screen. Anything else the client retries.
          if (live && errorCode(reason) === 'UNAUTHORIZED') onSignOut();
        },
      );
    void whoAmI();
    // The server closes a signed-out token's socket (signed out on another device, a new
    // password): asked again on every reconnect, such a token leads back to signing in.
    const offConnection = created.onConnectionChange((connected) => connected && void whoAmI());
    return () => {
      live = false;
      offConnection();
      setClient(null);
      void created.close();
    };
  }, [token, onSignOut]);

  const session = useMemo<Session | null>(
    () =>
      client === null || me === null
        ? null
        : { client, me, directory: new UserDirectory(client, me), signOut: () => void signOut(client, onSignOut) },
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

/** How long signing out waits for the server to void the token before leaving anyway (offline, say). */
const LOGOUT_WAIT_MS = 3_000;

/** Voids the token on the server (its other sockets close), then leaves; offline, it leaves all the same. */
async function signOut(client: StreampodClient, leave: () => void): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    client.auth.logout().catch(() => undefined),
    new Promise<void>((resolve) => (timer = setTimeout(resolve, LOGOUT_WAIT_MS))),
  ]);
  clearTimeout(timer);
  leave();
}
