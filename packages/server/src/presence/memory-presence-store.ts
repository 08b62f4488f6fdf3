import type { UserPresence } from '@streampod/protocol';
import { neverSeen, rollUp, samePresence } from './presence-rules.js';
import type { ManualStatus, PresenceChange, PresenceStore } from './presence-store.js';

interface UserRecord {
  readonly devices: Map<string, boolean>;
  manual: ManualStatus | null;
  lastSeen: Date | null;
  presence: UserPresence;
}

/** The single-node presence store: a map of users; every operation is O(devices of that user). */
export class MemoryPresenceStore implements PresenceStore {
  readonly #users = new Map<number, UserRecord>();

  setDevice(device: { userId: number; deviceId: string; idle: boolean }): Promise<PresenceChange> {
    return Promise.resolve(
      this.#update(device.userId, (r) => {
        r.devices.set(device.deviceId, device.idle);
      }),
    );
  }

  removeDevice(device: { userId: number; deviceId: string; at: Date }): Promise<PresenceChange> {
    return Promise.resolve(
      this.#update(device.userId, (r) => {
        if (!r.devices.delete(device.deviceId)) return;
        if (r.devices.size === 0) {
          r.lastSeen = device.at;
          r.manual = null;
        }
      }),
    );
  }

  setManualStatus(userId: number, status: ManualStatus | null): Promise<PresenceChange> {
    return Promise.resolve(
      this.#update(userId, (r) => {
        // Offline users have no status to set: it would outlive their going offline.
        if (r.devices.size > 0) r.manual = status;
      }),
    );
  }

  get(userIds: readonly number[]): Promise<Map<number, UserPresence>> {
    const found = new Map<number, UserPresence>();
    for (const id of userIds) {
      const record = this.#users.get(id);
      if (record !== undefined) found.set(id, record.presence);
    }
    return Promise.resolve(found);
  }

  close(): Promise<void> {
    this.#users.clear();
    return Promise.resolve();
  }

  #update(userId: number, mutate: (record: UserRecord) => void): PresenceChange {
    let record = this.#users.get(userId);
    if (record === undefined) {
      record = { devices: new Map(), manual: null, lastSeen: null, presence: neverSeen(userId) };
      this.#users.set(userId, record);
    }
    const before = record.presence;
    mutate(record);
    const after = rollUp({
      userId,
      deviceIdle: record.devices.values(),
      manual: record.manual,
      lastSeen: record.lastSeen,
    });
    const changed = !samePresence(before, after);
    if (changed) record.presence = after;
    return { before, after: changed ? after : before, changed };
  }
}
