import { useConnectionState } from '@streampod/client/react';
import type { ReactElement } from 'react';

/**
 * Shown while the socket is down after having been up. The client reconnects by itself and
 * resumes the chat stream where it stopped, so nothing needs doing but waiting.
 */
export function ConnectionBanner(): ReactElement | null {
  const state = useConnectionState();
  if (state !== 'reconnecting') return null;
  return (
    <div className="banner" role="alert">
      <span className="spinner" aria-hidden="true" />
      Reconnecting…
    </div>
  );
}
