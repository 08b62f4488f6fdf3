import type {
  ManualStatus,
  DeviceRef,
  ExpiredNode,
  PresenceChange,
  PresenceStore,
  VersionedPresence,
} from './presence-store.js';
import { assertNodeId, changeOf, deviceKey, nodeOfKey, presenceOf, type PresenceRecord } from './presence-record.js';

interface MutableRecord {
  devices: Map<string, boolean>;
  manual: ManualStatus | null;
  lastSeen: Date | null;
  version: number;
}

interface Lease {
  expiresAt: number;
  renewedAt: number;
}

/** A node being expired: swept once, swept again at `deadline`. */
interface Expiry {
  deadline: number;
  renewedAt: number;
  pass: number;
}

/**
 * Presence in one process: a map of users, and the leases of the nodes (servers) of this
 * process that share it. Every operation is O(devices of that user).
 */
export class MemoryPresenceStore implements PresenceStore {
  readonly #users = new Map<number, MutableRecord>();
  readonly #leases = new Map<string, Lease>();
  readonly #expiring = new Map<string, Expiry>();
  readonly #claimTimeoutMs: number;
  /** node → its devices' users, so an expiry finds them without a scan */
  readonly #nodeUsers = new Map<string, Map<number, number>>();
  #version = 0;

  /** @param opts.claimTimeoutMs time between the two sweeps of an expired node @default 30_000 */
  constructor(opts: { claimTimeoutMs?: number } = {}) {
    this.#claimTimeoutMs = opts.claimTimeoutMs ?? 30_000;
  }

  setDevice(device: DeviceRef & { idle: boolean }): Promise<PresenceChange> {
    assertNodeId(device.nodeId);
    return Promise.resolve(
      this.#update(device.userId, (r) => {
        const key = deviceKey(device.nodeId, device.deviceId);
        if (!r.devices.has(key)) this.#count(device.nodeId, device.userId, +1);
        r.devices.set(key, device.idle);
      }),
    );
  }

  removeDevice(device: DeviceRef & { at: Date }): Promise<PresenceChange> {
    return Promise.resolve(
      this.#update(device.userId, (r) => {
        if (!r.devices.delete(deviceKey(device.nodeId, device.deviceId))) return;
        this.#count(device.nodeId, device.userId, -1);
        if (r.devices.size === 0) goOffline(r, device.at);
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

  markSeen(input: { userId: number; at: Date }): Promise<PresenceChange> {
    return Promise.resolve(
      this.#update(input.userId, (r) => {
        if (r.devices.size === 0 && (r.lastSeen === null || r.lastSeen < input.at)) r.lastSeen = input.at;
      }),
    );
  }

  get(userIds: readonly number[]): Promise<Map<number, VersionedPresence>> {
    const found = new Map<number, VersionedPresence>();
    for (const id of userIds) {
      const record = this.#users.get(id);
      if (record !== undefined) found.set(id, { presence: presenceOf(id, record), version: record.version });
    }
    return Promise.resolve(found);
  }

  renewLease(nodeId: string, leaseMs: number): Promise<boolean> {
    assertNodeId(nodeId);
    const now = Date.now();
    const known = this.#leases.has(nodeId);
    this.#leases.set(nodeId, { expiresAt: now + leaseMs, renewedAt: now });
    return Promise.resolve(known);
  }

  expireNodes(): Promise<ExpiredNode[]> {
    const now = Date.now();
    for (const [nodeId, lease] of [...this.#leases]) {
      if (lease.expiresAt > now) continue;
      this.#leases.delete(nodeId);
      this.#expiring.set(nodeId, { deadline: now, renewedAt: lease.renewedAt, pass: 0 });
    }
    const expired: ExpiredNode[] = [];
    for (const [nodeId, expiry] of [...this.#expiring]) {
      if (expiry.deadline > now) continue;
      const at = new Date(expiry.renewedAt);
      expired.push({ nodeId, lastRenewedAt: at, changes: this.#dropNode(nodeId, at) });
      this.#swept(nodeId, expiry, now);
    }
    return Promise.resolve(expired);
  }

  syncNode(input: {
    nodeId: string;
    devices: readonly (DeviceRef & { idle: boolean })[];
    at: Date;
  }): Promise<PresenceChange[]> {
    assertNodeId(input.nodeId);
    const wanted = new Map<number, Map<string, boolean>>();
    for (const d of input.devices) {
      let mine = wanted.get(d.userId);
      if (mine === undefined) wanted.set(d.userId, (mine = new Map<string, boolean>()));
      mine.set(deviceKey(input.nodeId, d.deviceId), d.idle);
    }
    const users = new Set([...wanted.keys(), ...(this.#nodeUsers.get(input.nodeId)?.keys() ?? [])]);
    const changes: PresenceChange[] = [];
    for (const userId of users) {
      changes.push(
        this.#update(userId, (r) => this.#replaceNodeDevices(r, { ...input, userId, wanted: wanted.get(userId) })),
      );
    }
    return Promise.resolve(changes);
  }

  releaseNode(nodeId: string, at: Date): Promise<PresenceChange[]> {
    this.#leases.delete(nodeId);
    const expiry: Expiry = { deadline: Date.now(), renewedAt: at.getTime(), pass: 0 };
    this.#expiring.set(nodeId, expiry);
    const changes = this.#dropNode(nodeId, at);
    this.#swept(nodeId, expiry, Date.now());
    return Promise.resolve(changes);
  }

  /** One sweep done: the second one comes a claim timeout later; after it, the node is forgotten. */
  #swept(nodeId: string, expiry: Expiry, now: number): void {
    expiry.pass++;
    if (expiry.pass >= 2) this.#expiring.delete(nodeId);
    else expiry.deadline = now + this.#claimTimeoutMs;
  }

  close(): Promise<void> {
    this.#users.clear();
    this.#leases.clear();
    this.#expiring.clear();
    this.#nodeUsers.clear();
    return Promise.resolve();
  }

  #dropNode(nodeId: string, at: Date): PresenceChange[] {
    const users = [...(this.#nodeUsers.get(nodeId)?.keys() ?? [])];
    return users.map((userId) =>
      this.#update(userId, (r) => this.#replaceNodeDevices(r, { nodeId, userId, at, wanted: undefined })),
    );
  }

  /** Leaves exactly `wanted` as the node's devices of this user. */
  #replaceNodeDevices(
    r: MutableRecord,
    input: { nodeId: string; userId: number; at: Date; wanted: Map<string, boolean> | undefined },
  ): void {
    const hadDevices = r.devices.size > 0;
    for (const key of [...r.devices.keys()]) {
      if (nodeOfKey(key) !== input.nodeId || input.wanted?.has(key) === true) continue;
      r.devices.delete(key);
      this.#count(input.nodeId, input.userId, -1);
    }
    for (const [key, idle] of input.wanted ?? []) {
      if (!r.devices.has(key)) this.#count(input.nodeId, input.userId, +1);
      r.devices.set(key, idle);
    }
    if (hadDevices && r.devices.size === 0) goOffline(r, input.at);
  }

  #count(nodeId: string, userId: number, delta: number): void {
    let users = this.#nodeUsers.get(nodeId);
    if (users === undefined) this.#nodeUsers.set(nodeId, (users = new Map<number, number>()));
    const n = (users.get(userId) ?? 0) + delta;
    if (n > 0) users.set(userId, n);
    else users.delete(userId);
    if (users.size === 0) this.#nodeUsers.delete(nodeId);
  }

  #update(userId: number, mutate: (record: MutableRecord) => void): PresenceChange {
    let record = this.#users.get(userId);
    const existed = record !== undefined;
    if (record === undefined) {
      record = { devices: new Map(), manual: null, lastSeen: null, version: 0 };
      this.#users.set(userId, record);
    }
    const before: PresenceRecord | undefined = existed ? snapshotOf(record) : undefined;
    mutate(record);
    record.version = ++this.#version;
    return changeOf({ userId, before, after: record, version: record.version });
  }
}

function goOffline(r: MutableRecord, at: Date): void {
  r.lastSeen = at;
  r.manual = null;
}

function snapshotOf(r: MutableRecord): PresenceRecord {
  return { devices: new Map(r.devices), manual: r.manual, lastSeen: r.lastSeen };
}
