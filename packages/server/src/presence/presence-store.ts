import type { UserPresence } from '@streampod/protocol';

/** A status the user set by hand; `online` by hand means "back to automatic". */
export type ManualStatus = 'away' | 'busy';

/** One live authenticated connection of a user, held by one server node. */
export interface DeviceRef {
  readonly nodeId: string;
  readonly userId: number;
  readonly deviceId: string;
}

/** A user's presence and its version: of two states of one user, the higher version is the newer. */
export interface VersionedPresence {
  readonly presence: UserPresence;
  readonly version: number;
}

/** One store operation's effect on a user's rolled-up presence. */
export interface PresenceChange {
  readonly before: UserPresence;
  readonly after: UserPresence;
  /** `after` differs from `before` (status, devices or lastSeen): subscribers must hear it. */
  readonly changed: boolean;
  /**
   * The user's version after this operation, assigned atomically by the store: it grows
   * with every operation on the user, whichever node made it, so a receiver keeps the
   * highest it has seen and drops anything older that arrives late.
   */
  readonly version: number;
}

/** A node whose lease ran out, removed by this caller (and no other), with what that changed. */
export interface ExpiredNode {
  readonly nodeId: string;
  /** When it last renewed its lease: its users' last seen. */
  readonly lastRenewedAt: Date;
  readonly changes: PresenceChange[];
}

/**
 * Some of a batch of user updates failed (the store went away half-way): `changes` are
 * those that were applied, for the caller to tell everyone before it retries the rest.
 */
export class PresenceBatchError extends Error {
  override readonly name = 'PresenceBatchError';

  constructor(
    readonly changes: PresenceChange[],
    readonly errors: unknown[],
  ) {
    super(`${errors.length} presence update(s) failed: ${String(errors[0])}`, { cause: errors[0] });
  }
}

/** Runs `updates` side by side; throws `PresenceBatchError` with the applied ones if any failed. */
export async function allApplied(updates: Promise<PresenceChange>[]): Promise<PresenceChange[]> {
  const results = await Promise.allSettled(updates);
  const changes = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (errors.length > 0) throw new PresenceBatchError(changes, errors);
  return changes;
}

/**
 * Shared presence state: each user's devices (live authenticated connections, on any node)
 * and status set by hand, rolled up into one `UserPresence` by the rule in
 * `presence-rules.ts`. Per-connection activity stays on the node that owns the connection;
 * the store hears only transitions (a device added, gone, gone idle or active again), so
 * its cost does not grow with the call rate.
 *
 * Devices are held per node under a lease that live nodes renew; a node that stops
 * renewing is expired by whichever other node notices first, exactly once, and its users'
 * devices go with it. In memory for one process; Redis across nodes.
 */
export interface PresenceStore {
  /** Adds or updates a device (`idle`: no activity for the idle timeout). */
  setDevice(device: DeviceRef & { idle: boolean }): Promise<PresenceChange>;
  /** Removes a device; when it was the user's last, the user is offline as of `at`. */
  removeDevice(device: DeviceRef & { at: Date }): Promise<PresenceChange>;
  /** Sets (or with `null` clears) the status set by hand; cleared anyway when the user goes offline. */
  setManualStatus(userId: number, status: ManualStatus | null): Promise<PresenceChange>;
  /**
   * A user without devices was last seen at `at` (a disconnect the store could not hear of
   * while it was away): records it unless a later time is known.
   */
  markSeen(input: { userId: number; at: Date }): Promise<PresenceChange>;
  /** The presence of the users this store knows, with versions; ids it never saw are absent. */
  get(userIds: readonly number[]): Promise<Map<number, VersionedPresence>>;
  /**
   * Renews `nodeId`'s lease for `leaseMs`. Resolves `false` when the node had been expired
   * (or never registered): its devices are gone from the store and must be announced again.
   */
  renewLease(nodeId: string, leaseMs: number): Promise<boolean>;
  /**
   * Expires every node whose lease ran out; each expiry is claimed by one caller only. A
   * node is swept twice, the second time a claim timeout later, so a device its last
   * commands added while the first sweep ran goes too; a sweep that failed half-way is
   * taken over after the claim timeout. Users whose updates failed are in the error of
   * the node (see `PresenceBatchError`): what was applied is returned all the same.
   */
  expireNodes(): Promise<ExpiredNode[]>;
  /**
   * Makes the store hold exactly `devices` for `nodeId` (announcing a node again after an
   * outage): missing ones added, stale ones removed, users left without devices offline as of `at`.
   */
  syncNode(input: {
    nodeId: string;
    devices: readonly (DeviceRef & { idle: boolean })[];
    at: Date;
  }): Promise<PresenceChange[]>;
  /**
   * Removes the node's lease and devices at once (a graceful shutdown hands nothing to a
   * lease); it is swept once more later, like an expired node, in case this one stops half-way.
   */
  releaseNode(nodeId: string, at: Date): Promise<PresenceChange[]>;
  close(): Promise<void>;
}
