import type { UserPresence } from '@streampod/protocol';

/** A status the user set by hand; `online` by hand means "back to automatic". */
export type ManualStatus = 'away' | 'busy';

/** One store operation's effect on a user's rolled-up presence. */
export interface PresenceChange {
  readonly before: UserPresence;
  readonly after: UserPresence;
  /** `after` differs from `before` (status, devices or lastSeen): subscribers must hear it. */
  readonly changed: boolean;
}

/**
 * Shared presence state: each user's devices (live authenticated connections, on any node)
 * and status set by hand, rolled up into one `UserPresence` by the rule in
 * `presence-rules.ts`. Per-connection activity stays on the node that owns the connection;
 * the store hears only transitions (a device added, gone, gone idle or active again), so
 * its cost does not grow with the call rate. In memory on one node; Redis across nodes.
 */
export interface PresenceStore {
  /** Adds or updates a device of `userId` (`idle`: no activity for the idle timeout). */
  setDevice(device: { userId: number; deviceId: string; idle: boolean }): Promise<PresenceChange>;
  /** Removes a device; when it was the user's last, the user is offline as of `at`. */
  removeDevice(device: { userId: number; deviceId: string; at: Date }): Promise<PresenceChange>;
  /** Sets (or with `null` clears) the status set by hand; cleared anyway when the user goes offline. */
  setManualStatus(userId: number, status: ManualStatus | null): Promise<PresenceChange>;
  /** The presence of the users this store knows; ids it never saw are absent. */
  get(userIds: readonly number[]): Promise<Map<number, UserPresence>>;
  close(): Promise<void>;
}
