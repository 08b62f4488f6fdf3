import type { PresenceStatus } from '@streampod/client';
import type { ReactElement } from 'react';

/** The coloured dot; decoration only: the status is always written next to it too. */
export function PresenceDot(props: { status: PresenceStatus }): ReactElement {
  return <span className={`dot dot-${props.status}`} aria-hidden="true" />;
}
