import { samePresence, type UserPresence } from '@streampod/protocol';
import { neverSeen, rollUp } from './presence-rules.js';
import type { ManualStatus, PresenceChange } from './presence-store.js';

/** What a store keeps per user, in memory or in Redis: the facts the roll-up rule reads. */
export interface PresenceRecord {
  /** `deviceKey(node, device)` → idle */
  readonly devices: ReadonlyMap<string, boolean>;
  readonly manual: ManualStatus | null;
  /** When the user last went offline (null: never seen). */
  readonly lastSeen: Date | null;
}

/** A device's key within a user's record; node and device ids never contain `/`. */
export function deviceKey(nodeId: string, deviceId: string): string {
  return `${nodeId}/${deviceId}`;
}

/** The node part of a `deviceKey`. */
export function nodeOfKey(key: string): string {
  return key.slice(0, key.indexOf('/'));
}

/** A user's presence from their record (a missing record is a user never seen). */
export function presenceOf(userId: number, record: PresenceRecord | undefined): UserPresence {
  if (record === undefined) return neverSeen(userId);
  return rollUp({ userId, deviceIdle: record.devices.values(), manual: record.manual, lastSeen: record.lastSeen });
}

/** The change between two records of a user. */
export function changeOf(input: {
  userId: number;
  before: PresenceRecord | undefined;
  after: PresenceRecord | undefined;
  version: number;
}): PresenceChange {
  const before = presenceOf(input.userId, input.before);
  const after = presenceOf(input.userId, input.after);
  const changed = !samePresence(before, after);
  return { before, after: changed ? after : before, changed, version: input.version };
}

/** Node ids name Redis keys and device keys: a safe, short alphabet only. */
export function assertNodeId(nodeId: string): void {
  if (!/^[\w.-]{1,64}$/.test(nodeId)) throw new Error(`invalid node id "${nodeId}": use [A-Za-z0-9_.-], at most 64`);
}
