import { usePresence } from '@streampod/client/react';
import { useState, type ReactElement } from 'react';
import { useSession } from '../session/session-context';
import { PresenceDot } from '../ui/presence-dot';
import { StatusMenu, type SettableStatus } from './status-menu';

/** The signed-in user at the foot of the sidebar: their name and status, the status menu, signing out. */
export function AccountPanel(): ReactElement {
  const { client, me, signOut } = useSession();
  const { presences } = usePresence([me.id]);
  const [error, setError] = useState('');
  // Shown as the server has it (our own presence watch), so "away" after idling shows too.
  const status = presences[me.id]?.status ?? 'online';

  const choose = (next: SettableStatus) => {
    setError('');
    client.presence.setStatus({ status: next }).catch(() => setError('Could not change your status.'));
  };

  return (
    <section className="account" aria-label="Your account">
      <div className="account-who">
        <PresenceDot status={status} />
        <div>
          <p className="account-name">{me.displayName}</p>
          <p className="account-status">
            <span className="sr-only">Your status: </span>
            {status}
          </p>
          {error !== '' && <p className="sidebar-note">{error}</p>}
        </div>
      </div>
      <div className="account-actions">
        <StatusMenu current={status} onChoose={choose} />
        <button type="button" className="ghost-on-dark" onClick={signOut}>
          Sign out
        </button>
      </div>
    </section>
  );
}
