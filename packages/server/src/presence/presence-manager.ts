import {
  addTo,
  fail,
  removeFrom,
  SetMap,
  valuesOf,
  type Connection as AnyConnection,
  type FanoutBus,
  type Logger,
  type SmallSet,
  type SmallSetStore,
} from '@streampod/framework';
import type { AuthenticatedUser } from '../auth/tokens.js';
import type { UserPresence } from '@streampod/protocol';
import { KeyedQueue } from '../util/keyed-queue.js';
import type { LastSeenStore } from './last-seen.js';
import { noRooms, type Membership } from './membership.js';
import { neverSeen } from './presence-rules.js';
import { PresenceWatchers, type PresenceSession, type WatchOwners } from './presence-watchers.js';
import {
  PresenceBatchError,
  type DeviceRef,
  type ManualStatus,
  type PresenceChange,
  type PresenceStore,
  type VersionedPresence,
} from './presence-store.js';

/** A connection of a chat user. */
type Connection = AnyConnection<AuthenticatedUser>;

export interface PresenceManagerOptions {
  store: PresenceStore;
  bus: FanoutBus;
  lastSeen: LastSeenStore;
  log: Logger;
  /** This server's id; its devices are held under it (plus an incarnation number). */
  nodeId: string;
  /**
   * A node that has not renewed its lease this long is dead: another node takes its users
   * offline. Renewed every third of it.
   * @default 15_000
   */
  leaseMs?: number;
  /**
   * A device without activity (a call, `presence.heartbeat`) this long is idle; a user
   * whose devices are all idle is `away`.
   * @default 300_000
   */
  idleAfterMs?: number;
  /**
   * Changes within this window reach a subscriber as one batch, one entry per user.
   * @default 50
   */
  batchMs?: number;
  /** Who shares a room with whom: a watch loses what a room left no longer allows. @default nobody */
  membership?: Membership;
  /** Every change of a user's presence made by this node (chat tells the user's rooms). */
  onChange?: (change: PresenceChange) => void;
}

/** One live, authenticated connection of a user on this node. */
interface Device {
  /** Its id in the store is its connection's. */
  readonly connection: Connection;
  readonly userId: number;
  lastActivityAt: number;
  idle: boolean;
  /** The presence watches of its connection (see `WatchOwners`). */
  watches: SmallSet<PresenceSession>;
}

/** A device's watches as a small set (`addTo`, `removeFrom`): held in the device itself. */
const WATCHES_OF: SmallSetStore<Device, PresenceSession> = {
  get: (device) => device.watches,
  set: (device, watches) => (device.watches = watches),
  delete: (device) => ((device.watches = undefined), true),
};

/**
 * Presence for every endpoint: turns connections and activity into device states in the
 * store, and publishes each user's changes with the version the store gave them to the
 * watchers of that user on every node (`PresenceWatchers`). It keeps this node's lease,
 * expires dead nodes, and announces its devices again whenever the store may have lost them.
 */
export class PresenceManager {
  readonly #store: PresenceStore;
  readonly #lastSeen: LastSeenStore;
  readonly #log: Logger;
  readonly #baseNodeId: string;
  readonly #leaseMs: number;
  readonly #idleAfterMs: number;
  readonly #batchMs: number;
  readonly #onChange: ((change: PresenceChange) => void) | undefined;
  // Keyed by any connection: a presence watch knows its connection by the framework's type.
  readonly #devices = new Map<AnyConnection, Device>();
  readonly #devicesByUser = new SetMap<number, Device>();
  readonly #watchers: PresenceWatchers;
  /** Watches on a connection without a device (not signed in when it opened, or not yet opened), by owner. */
  readonly #undevicedWatches = new SetMap<number, PresenceSession>();
  /**
   * The watches of each owner: on their connection's device, so that a watch costs no slot in
   * a map of owners (~40 bytes), else in `#undevicedWatches`.
   */
  readonly #watchOwners: WatchOwners = {
    add: (ownerId, session) => {
      const device = this.#devices.get(session.connection);
      if (device !== undefined) addTo(WATCHES_OF, device, session);
      else this.#undevicedWatches.add(ownerId, session);
    },
    delete: (ownerId, session) => {
      const device = this.#devices.get(session.connection);
      if (device === undefined || !removeFrom(WATCHES_OF, device, session))
        this.#undevicedWatches.delete(ownerId, session);
    },
    of: (ownerId) => [
      ...[...this.#devicesByUser.get(ownerId)].flatMap((device) => [...valuesOf(device.watches)]),
      ...this.#undevicedWatches.get(ownerId),
    ],
  };
  /** Disconnects the store did not hear of (it was away): told once it is back. */
  readonly #unheard = new Map<number, Date>();
  readonly #idleSweep: NodeJS.Timeout;
  /** Serializes store updates per user, so this node's changes of a user apply in order. */
  readonly #queue = new KeyedQueue<number>();
  #leaseTimer: NodeJS.Timeout | undefined;
  #incarnation = 0;
  #registered = false;
  #ticking: Promise<void> | undefined;
  /** The store may not hold this node's devices as they are: announce them again. */
  #needsSync = false;
  /** When the store answered again after failing: other nodes get a lease to come back before any is expired. */
  #storeBackAt: number | undefined;
  #storeFailing = false;
  /** Bumped by every local device change, so a sync that raced one runs again. */
  #deviceGeneration = 0;
  /** While stopping: how long a closed device stays, for its client to turn up elsewhere. */
  #lingerMs = 0;
  #closed = false;

  constructor(opts: PresenceManagerOptions) {
    this.#store = opts.store;
    this.#lastSeen = opts.lastSeen;
    this.#log = opts.log;
    this.#baseNodeId = opts.nodeId;
    this.#leaseMs = opts.leaseMs ?? 15_000;
    this.#idleAfterMs = opts.idleAfterMs ?? 300_000;
    this.#batchMs = opts.batchMs ?? 50;
    this.#onChange = opts.onChange;
    this.#watchers = new PresenceWatchers({
      bus: opts.bus,
      log: opts.log,
      batchMs: this.#batchMs,
      read: (ids) => this.#versioned(ids),
      readStore: (ids) => this.#store.get(ids),
      lastSeen: opts.lastSeen,
      forgetAfterMs: this.#leaseMs,
      membership: opts.membership ?? noRooms,
      owners: this.#watchOwners,
    });
    // One sweep for all devices; a device goes idle at most a quarter of the timeout late.
    const sweepMs = Math.min(5_000, Math.max(10, Math.floor(this.#idleAfterMs / 4)));
    this.#idleSweep = setInterval(() => this.#sweepIdle(), sweepMs);
    this.#idleSweep.unref();
  }

  /** The id this node's devices are held under in the store now. */
  get nodeId(): string {
    return `${this.#baseNodeId}.${this.#incarnation}`;
  }

  /** Registers this node's lease and starts renewing it (and expiring dead nodes). */
  async start(): Promise<void> {
    await this.#tick();
    const every = Math.max(10, Math.floor(this.#leaseMs / 3));
    this.#leaseTimer = setInterval(() => void this.#tick(), every);
    this.#leaseTimer.unref();
  }

  /** The store may have lost this node's state (it came back from an outage): announce it again. */
  resync(): void {
    this.#needsSync = true;
    void this.#tick();
  }

  /** A connection is ready: an authenticated one becomes a device of its user. */
  async connectionOpened(connection: Connection): Promise<void> {
    const user = connection.user;
    if (user === null || this.#devices.has(connection)) return;
    const device: Device = {
      connection,
      userId: user.id,
      lastActivityAt: Date.now(),
      idle: false,
      watches: undefined,
    };
    this.#devices.set(connection, device);
    this.#devicesByUser.add(user.id, device);
    this.#deviceGeneration++;
    const state = { ...this.#refOf(device), idle: false };
    await this.#apply(user.id, () => this.#store.setDevice(state));
  }

  /**
   * The server is stopping and tells its clients to reconnect elsewhere: from now on a
   * device that goes lingers a moment in the store, so a client that moved is seen on its
   * new node first and its user never looks offline.
   */
  handOff(lingerMs = 250): void {
    this.#lingerMs = lingerMs;
  }

  /** A connection is gone: its device goes; the user's last device makes them offline, with last seen saved. */
  async connectionClosed(connection: Connection): Promise<void> {
    const device = this.#devices.get(connection);
    if (device === undefined) return;
    if (this.#lingerMs > 0) await new Promise((resolve) => setTimeout(resolve, this.#lingerMs));
    this.#devices.delete(connection);
    this.#devicesByUser.delete(device.userId, device);
    // A connection may outlive its device (its token expired: its streams end within a second): its watches
    // stay findable by owner until they do.
    for (const session of valuesOf(device.watches)) this.#undevicedWatches.add(device.userId, session);
    device.watches = undefined;
    this.#deviceGeneration++;
    const at = new Date();
    try {
      const gone = { ...this.#refOf(device), at };
      await this.#apply(device.userId, () => this.#store.removeDevice(gone));
    } catch (error) {
      // Announcing this node again drops the device; if the store forgot everything meanwhile,
      // the user's going offline is told from here.
      this.#unheard.set(device.userId, at);
      throw error;
    }
  }

  /**
   * Activity on a connection (any call, `presence.heartbeat`): its device is active again.
   * A call over HTTP counts for every device of its user on this node.
   */
  activity(connection: Connection): void {
    const now = Date.now();
    const device = this.#devices.get(connection);
    if (device !== undefined) {
      this.#touch(device, now);
      return;
    }
    const user = connection.user;
    if (user === null) return;
    for (const d of this.#devicesByUser.get(user.id)) this.#touch(d, now);
  }

  /** Sets the user's status by hand (`online`: back to automatic); returns their presence. */
  async setStatus(userId: number, status: ManualStatus | 'online'): Promise<UserPresence> {
    const change = await this.#apply(userId, () =>
      this.#store.setManualStatus(userId, status === 'online' ? null : status),
    );
    return change.after;
  }

  /** The presence of each of `userIds`, in order; users never seen are offline with no last seen. */
  async getPresence(userIds: readonly number[]): Promise<UserPresence[]> {
    const known = await this.#versioned(userIds);
    return userIds.map((id) => known.get(id)?.presence ?? neverSeen(id));
  }

  /**
   * Starts a presence stream: a snapshot of every user in its input, then batches of changes
   * (see `PresenceWatchers`). `checkedAt` is `accessChanges` read before the caller checked access.
   */
  watch(session: PresenceSession, checkedAt?: number): Promise<void> {
    return this.#watchers.watch(session, checkedAt);
  }

  /** Departures heard so far: read before checking a watch's access, passed to `watch` as `checkedAt`. */
  get accessChanges(): number {
    return this.#watchers.accessChanges;
  }

  /** These users left a room: watches by or of them, on every node, are checked again. */
  accessChanged(userIds: readonly number[]): void {
    this.#watchers.accessChanged(userIds);
  }

  /** The presence of each of `userIds` with its version (the store's, or last seen from the database). */
  read(userIds: readonly number[]): Promise<Map<number, VersionedPresence>> {
    return this.#versioned(userIds);
  }

  /** Local devices, for metrics and tests. */
  get deviceCount(): number {
    return this.#devices.size;
  }

  /** Users watched on this node, for leak checks. */
  get watchedUserCount(): number {
    return this.#watchers.watchedUserCount;
  }

  /** Users the presence watches hold a change, a read or a note for (for leak checks). */
  get heldUserCount(): number {
    return this.#watchers.heldUserCount;
  }

  /**
   * Stops: releases this node from the store (its users go offline at once, not after a
   * lease) and stops every timer.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#idleSweep);
    clearInterval(this.#leaseTimer);
    await this.#ticking;
    try {
      const at = new Date();
      for (const change of await this.#store.releaseNode(this.nodeId, at)) await this.#published(change);
    } catch (error) {
      this.#log.warn({ err: error }, 'presence: could not release this node; its lease will expire');
    }
    this.#watchers.close();
    this.#undevicedWatches.clear();
  }

  /** The device as the store knows it: its id there is its connection's. */
  #refOf(device: Device): DeviceRef {
    return { nodeId: this.nodeId, userId: device.userId, deviceId: device.connection.id };
  }

  #touch(device: Device, now: number): void {
    device.lastActivityAt = now;
    if (!device.idle) return;
    device.idle = false;
    this.#deviceGeneration++;
    const state = { ...this.#refOf(device), idle: false };
    void this.#apply(device.userId, () => this.#store.setDevice(state)).catch(() => undefined);
  }

  #sweepIdle(): void {
    const deadline = Date.now() - this.#idleAfterMs;
    for (const [connection, device] of this.#devices) {
      // A connection whose token expired is no longer a user, even while it answers pings.
      if (connection.user === null) {
        this.connectionClosed(device.connection).catch(() => undefined);
        continue;
      }
      if (device.idle || device.lastActivityAt > deadline) continue;
      device.idle = true;
      this.#deviceGeneration++;
      const state = { ...this.#refOf(device), idle: true };
      void this.#apply(device.userId, () => this.#store.setDevice(state)).catch(() => undefined);
    }
  }

  /**
   * Runs one store update for a user after this node's previous ones, then publishes the
   * change. A store that fails leaves this node's devices to be announced again once it answers.
   */
  #apply(userId: number, update: () => Promise<PresenceChange>): Promise<PresenceChange> {
    return this.#queue.run(userId, async () => {
      let change: PresenceChange;
      try {
        change = await update();
      } catch (error) {
        this.#needsSync = true;
        this.#log.warn({ err: error, userId }, 'presence: store update failed; will announce again');
        throw error;
      }
      await this.#published(change);
      return change;
    });
  }

  /** Tells everyone about a change: the bus (every watcher, on every node), last seen, and `onChange`. */
  async #published(change: PresenceChange): Promise<void> {
    if (!change.changed) return;
    this.#watchers.publish({ presence: change.after, version: change.version });
    this.#onChange?.(change);
    const { after } = change;
    if (after.status === 'offline' && after.lastSeen !== null) {
      try {
        await this.#lastSeen.save(after.userId, after.lastSeen);
      } catch (error) {
        this.#log.error({ err: error, userId: after.userId }, 'saving last seen failed');
      }
    }
  }

  /** Renews the lease, announces devices again if needed, and expires dead nodes; one at a time. */
  #tick(): Promise<void> {
    this.#ticking ??= this.#renewAndExpire().finally(() => (this.#ticking = undefined));
    return this.#ticking;
  }

  async #renewAndExpire(): Promise<void> {
    if (this.#closed) return;
    try {
      const known = await this.#store.renewLease(this.nodeId, this.#leaseMs);
      if (this.#storeFailing) {
        this.#storeFailing = false;
        this.#storeBackAt = Date.now();
      }
      if (!known && this.#registered) {
        // Another node expired us (we were unreachable) or the store forgot us: come back as
        // a new incarnation, so an expiry still running on the old one cannot remove our devices.
        const old = this.nodeId;
        this.#incarnation++;
        this.#log.warn({ old, node: this.nodeId }, 'presence: this node had been expired; announcing again');
        await this.#store.renewLease(this.nodeId, this.#leaseMs);
        this.#needsSync = true;
        await this.#sync();
        for (const change of await this.#store.releaseNode(old, new Date())) await this.#published(change);
      }
      this.#registered = true;
      if (this.#needsSync) await this.#sync();
      // After an outage every node's lease may have run out: give them one to come back.
      if (this.#storeBackAt !== undefined && Date.now() - this.#storeBackAt < this.#leaseMs) return;
      for (const expired of await this.#store.expireNodes()) {
        const changed = expired.changes.filter((c) => c.changed);
        if (changed.length > 0) {
          this.#log.warn({ node: expired.nodeId, users: changed.length }, 'presence: expired a silent node');
        }
        for (const change of changed) await this.#published(change);
      }
    } catch (error) {
      this.#needsSync = true;
      this.#storeFailing = true;
      this.#log.warn({ err: error }, 'presence: the store is unreachable; will retry');
    }
  }

  /** Makes the store hold exactly this node's devices; runs again if a device changed meanwhile. */
  async #sync(): Promise<void> {
    for (let round = 0; round < 5; round++) {
      const generation = this.#deviceGeneration;
      const devices = [...this.#devices.values()]
        .filter((d) => d.connection.user !== null)
        .map((d) => ({ ...this.#refOf(d), idle: d.idle }));
      let changes: PresenceChange[];
      try {
        changes = await this.#store.syncNode({ nodeId: this.nodeId, devices, at: new Date() });
      } catch (error) {
        // What was applied is told; the rest is tried again on the next tick.
        if (error instanceof PresenceBatchError) for (const change of error.changes) await this.#published(change);
        throw error;
      }
      for (const change of changes) await this.#published(change);
      if (generation !== this.#deviceGeneration) continue;
      this.#needsSync = false;
      this.#log.info({ devices: devices.length }, 'presence: devices announced');
      // Users who left while the store was away: if it forgot them, they are offline as of then.
      for (const [userId, at] of [...this.#unheard]) {
        this.#unheard.delete(userId);
        if (!this.#devicesByUser.has(userId)) await this.#published(await this.#store.markSeen({ userId, at }));
      }
      return;
    }
  }

  /** The store's view of `userIds`, with last seen from the database for users it does not remember. */
  async #versioned(userIds: readonly number[]): Promise<Map<number, VersionedPresence>> {
    let known: Map<number, VersionedPresence>;
    try {
      known = await this.#store.get(userIds);
    } catch (error) {
      return fail(
        'SERVICE_UNAVAILABLE',
        'presence is unavailable for a moment (its store is unreachable): retry',
        error,
      );
    }
    const unknown = userIds.filter((id) => {
      const p = known.get(id)?.presence;
      return p === undefined || (p.status === 'offline' && p.lastSeen === null);
    });
    if (unknown.length > 0) {
      for (const [id, at] of await this.#lastSeen.get(unknown)) {
        known.set(id, {
          presence: { userId: id, status: 'offline', lastSeen: at, devices: 0 },
          version: known.get(id)?.version ?? 0,
        });
      }
    }
    return known;
  }
}
