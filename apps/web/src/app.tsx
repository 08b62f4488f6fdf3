import { useCallback, useEffect, useState, type ReactElement } from 'react';
import { SignInScreen } from './auth/sign-in-screen';
import { clearToken, loadToken, saveToken, TOKEN_KEY } from './session/token-store';
import { SignedInApp } from './signed-in-app';

/** Signed out: the sign-in screen. Signed in: the chat, for as long as the stored token lasts. */
export function App(): ReactElement {
  const [token, setToken] = useState(loadToken);
  const signIn = useCallback((next: string) => {
    saveToken(next);
    setToken(next);
  }, []);
  const signOut = useCallback(() => {
    clearToken();
    setToken(null);
  }, []);

  // Signing in or out in another tab of this browser does the same here.
  useEffect(() => {
    const onStorage = (event: StorageEvent) => {
      if (event.key === TOKEN_KEY || event.key === null) setToken(loadToken());
    };
    window.addEventListener('storage', onStorage);
    return () => window.removeEventListener('storage', onStorage);
  }, []);

  if (token === null) return <SignInScreen onSignedIn={signIn} />;
  // Keyed by token: a new sign-in gets a new client, with none of the previous user's state.
  return <SignedInApp key={token} token={token} onSignOut={signOut} />;
}
