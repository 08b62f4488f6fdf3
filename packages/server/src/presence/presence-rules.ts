import type { PresenceStatus, UserPresence } from '@streampod/protocol';
import type { ManualStatus } from './presence-store.js';

/** What the roll-up needs to know about one user. */
export interface PresenceFacts {
  readonly userId: number;
  /** Per live device: whether it has been idle for the idle timeout. */
  readonly deviceIdle: Iterable<boolean>;
  readonly manual: ManualStatus | null;
  /** When the user last went offline (null: never seen). */
  readonly lastSeen: Date | null;
}

/**
 * The one rule that turns a user's devices into one status, in order of precedence:
 * 1. no live device → `offline` (and `lastSeen` says since when);
 * 2. a status set by hand (`busy`, then `away`) wins over activity on any device;
 * 3. any device active within the idle timeout → `online`;
 * 4. every device idle → `away`.
 * So one device busy by hand and one idle is `busy`; one active and one idle is `online`.
 * `lastSeen` is null while the user is online in any form.
 */
export function rollUp(facts: PresenceFacts): UserPresence {
  let devices = 0;
  let active = false;
  for (const idle of facts.deviceIdle) {
    devices++;
    if (!idle) active = true;
  }
  let status: PresenceStatus;
  if (devices === 0) status = 'offline';
  else if (facts.manual !== null) status = facts.manual;
  else status = active ? 'online' : 'away';
  return { userId: facts.userId, status, lastSeen: devices === 0 ? facts.lastSeen : null, devices };
}

/** A user never seen: offline, no last seen. */
export function neverSeen(userId: number): UserPresence {
  return { userId, status: 'offline', lastSeen: null, devices: 0 };
}
