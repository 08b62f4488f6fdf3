import { createStreampodClient, type StreampodClient } from '@streampod/client';
import { useEffect, useId, useRef, useState, type FormEvent, type ReactElement } from 'react';
import { describeError } from '../session/errors';
import { serverUrl } from '../session/server-url';
import { fieldText } from '../ui/form-field';

type Action = 'sign-in' | 'sign-up';

/**
 * One form for both: Enter (or "Sign in") signs in with username and password; "Sign up"
 * creates the account, with the display name if one is given. Every field stays visible, so
 * nobody has to find a mode switch first.
 */
export function SignInScreen(props: { onSignedIn: (token: string) => void }): ReactElement {
  const client = useAuthClient();
  const [busy, setBusy] = useState<Action | null>(null);
  const [error, setError] = useState('');
  const hintId = useId();
  const errorId = useId();
  const usernameRef = useRef<HTMLInputElement>(null);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const submitter = (event.nativeEvent as SubmitEvent).submitter;
    const action: Action = submitter?.getAttribute('value') === 'sign-up' ? 'sign-up' : 'sign-in';
    const form = event.currentTarget;
    const username = fieldText(form, 'username').trim();
    const password = fieldText(form, 'password');
    const displayName = fieldText(form, 'displayName').trim();
    if (username === '' || password === '') {
      setError('Enter a username and a password.');
      usernameRef.current?.focus();
      return;
    }
    if (client === null) return;
    setBusy(action);
    setError('');
    try {
      const { token } =
        action === 'sign-up'
          ? await client.auth.register({ username, password, ...(displayName === '' ? {} : { displayName }) })
          : await client.auth.login({ username, password });
      props.onSignedIn(token);
    } catch (reason) {
      setError(describeError(reason));
      setBusy(null);
    }
  };

  return (
    <main className="auth">
      <div className="auth-card">
        <h1 className="auth-title">
          <span className="logo" aria-hidden="true" />
          streampod
        </h1>
        <p className="auth-lead">Sign in to your chat, or sign up for an account.</p>
        <form onSubmit={(event) => void submit(event)} noValidate aria-describedby={error === '' ? undefined : errorId}>
          <label className="field">
            <span className="field-label">Username</span>
            <input ref={usernameRef} name="username" autoComplete="username" autoCapitalize="none" required />
          </label>
          <label className="field">
            <span className="field-label">Password</span>
            <input name="password" type="password" autoComplete="current-password" required />
          </label>
          <label className="field">
            <span className="field-label">Display name</span>
            <input name="displayName" autoComplete="nickname" aria-describedby={hintId} />
          </label>
          <p id={hintId} className="field-hint">
            Only for new accounts; your username if left empty. Passwords need 8 characters or more.
          </p>
          <p id={errorId} className="form-error" role="alert">
            {error}
          </p>
          <div className="auth-actions">
            <button type="submit" name="action" value="sign-in" className="primary" disabled={busy !== null}>
              {busy === 'sign-in' ? 'Signing in…' : 'Sign in'}
            </button>
            <button type="submit" name="action" value="sign-up" disabled={busy !== null}>
              {busy === 'sign-up' ? 'Signing up…' : 'Sign up'}
            </button>
          </div>
        </form>
      </div>
    </main>
  );
}

/** A client without a token, for `auth.*` only; closed when the screen goes. */
function useAuthClient(): StreampodClient | null {
  const [client, setClient] = useState<StreampodClient | null>(null);
  useEffect(() => {
    // Over HTTP: signing in needs no socket of its own.
    const created = createStreampodClient({ url: serverUrl, calls: 'http' });
    setClient(created);
    return () => void created.close();
  }, []);
  return client;
}
