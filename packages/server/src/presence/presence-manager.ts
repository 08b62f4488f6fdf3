import type { PresenceBatch, UserPresence } from '@streampod/protocol';
import type { Logger } from 'pino';
import type { Connection } from '../core/connection.js';
import { KeyedQueue } from '../core/keyed-queue.js';
import { OutgoingEvent } from '../core/outgoing-event.js';
import type { StreamingSession } from '../core/session.js';
import type { FanoutBus } from '../fanout/fanout-bus.js';
import { TopicIndex } from '../fanout/topic-index.js';
import type { LastSeenStore } from './last-seen.js';
import { neverSeen } from './presence-rules.js';
import type { ManualStatus, PresenceChange, PresenceStore, VersionedPresence } from './presence-store.js';

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
  /** Every change of a user's presence made by this node (chat tells the user's rooms). */
  onChange?: (change: PresenceChange) => void;
}

/** What travels on a user's presence topic. */
export interface PresenceNote {
  readonly presence: UserPresence;
  readonly version: number;
}

/** One live, authenticated connection of a user on this node. */
interface Device {
  readonly connection: Connection;
  readonly userId: number;
  readonly deviceId: string;
  lastActivityAt: number;
  idle: boolean;
}

/** One `subscribeToPresence` stream: what it watches, what it has seen, and what it has not been sent yet. */
interface Watcher {
  readonly session: StreamingSession<PresenceBatch, unknown>;
  /** user id → the version of that user the stream has been sent (its snapshot, then changes) */
  readonly versions: Map<number, number>;
  readonly pending: Map<number, PresenceNote>;
  /** Its snapshot has gone out: changes may follow (never before it). */
  ready: boolean;
}

const topic = (userId: number) => `presence:${userId}`;

/**
 * Presence for every endpoint: turns connections and activity into device states in the
 * store, publishes each user's changes on the bus with the version the store gave them,
 * and fans them out to the watchers of that user only, batched per watcher. A change costs
 * work proportional to the watchers of the user who changed, never to the number of users
 * connected. It keeps this node's lease, expires dead nodes, and announces its devices
 * again whenever the store may have lost them.
 */
export class PresenceManager {
  readonly #store: PresenceStore;
  readonly #bus: FanoutBus;
  readonly #lastSeen: LastSeenStore;
  readonly #log: Logger;
  readonly #baseNodeId: string;
  readonly #leaseMs: number;
  readonly #idleAfterMs: number;
  readonly #batchMs: number;
  readonly #onChange: ((change: PresenceChange) => void) | undefined;
  readonly #devices = new Map<Connection, Device>();
  readonly #devicesByUser = new Map<number, Set<Device>>();
  readonly #watchers: TopicIndex<number, Watcher, PresenceNote>;
  /** The newest version of each watched user this node has heard of. */
  readonly #versions = new Map<number, number>();
  readonly #dirty = new Set<Watcher>();
  readonly #idleSweep: NodeJS.Timeout;
  /** Serializes store updates per user, so this node's changes of a user apply in order. */
  readonly #queue = new KeyedQueue<number>();
  readonly #stopResync: () => void;
  #leaseTimer: NodeJS.Timeout | undefined;
  #flushTimer: NodeJS.Timeout | undefined;
  #incarnation = 0;
  #registered = false;
  #ticking: Promise<void> | undefined;
  /** The store may not hold this node's devices as they are: announce them again. */
  #needsSync = false;
  /** Bumped by every local device change, so a sync that raced one runs again. */
  #deviceGeneration = 0;
  #closed = false;

  constructor(opts: PresenceManagerOptions) {
    this.#store = opts.store;
    this.#bus = opts.bus;
    this.#lastSeen = opts.lastSeen;
    this.#log = opts.log;
    this.#baseNodeId = opts.nodeId;
    this.#leaseMs = opts.leaseMs ?? 15_000;
    this.#idleAfterMs = opts.idleAfterMs ?? 300_000;
    this.#batchMs = opts.batchMs ?? 50;
    this.#onChange = opts.onChange;
    this.#watchers = new TopicIndex({ bus: opts.bus, topic, deliver: (_id, note) => this.#deliver(note) });
    // One sweep for all devices; a device goes idle at most a quarter of the timeout late.
    const sweepMs = Math.min(5_000, Math.max(10, Math.floor(this.#idleAfterMs / 4)));
    this.#idleSweep = setInterval(() => this.#sweepIdle(), sweepMs);
    this.#idleSweep.unref();
    // Changes published while the bus was away never came: read the watched users again.
    this.#stopResync = opts.bus.onResync(() => void this.#rereadWatched());
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
      deviceId: connection.id,
      lastActivityAt: Date.now(),
      idle: false,
    };
    this.#devices.set(connection, device);
    let set = this.#devicesByUser.get(user.id);
    if (set === undefined) this.#devicesByUser.set(user.id, (set = new Set()));
    set.add(device);
    this.#deviceGeneration++;
    await this.#apply(user.id, () =>
      this.#store.setDevice({ nodeId: this.nodeId, userId: user.id, deviceId: device.deviceId, idle: false }),
    );
  }

  /** A connection is gone: its device goes; the user's last device makes them offline, with last seen saved. */
  async connectionClosed(connection: Connection): Promise<void> {
    const device = this.#devices.get(connection);
    if (device === undefined) return;
    this.#devices.delete(connection);
    const set = this.#devicesByUser.get(device.userId);
    set?.delete(device);
    if (set?.size === 0) this.#devicesByUser.delete(device.userId);
    this.#deviceGeneration++;
    const at = new Date();
    await this.#apply(device.userId, () =>
      this.#store.removeDevice({ nodeId: this.nodeId, userId: device.userId, deviceId: device.deviceId, at }),
    );
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
    for (const d of this.#devicesByUser.get(user.id) ?? []) this.#touch(d, now);
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
   * Starts a presence stream: registers the watcher and waits until its users' topics are
   * live (so no change is missed), then sends the snapshot of every requested user; later
   * batches carry changes only, and never one older than what the stream was sent.
   */
  async watch(session: StreamingSession<PresenceBatch, unknown>, userIds: readonly number[]): Promise<void> {
    const ids = [...new Set(userIds)];
    const watcher: Watcher = { session, versions: new Map(), pending: new Map(), ready: false };
    let snapshot: Map<number, VersionedPresence>;
    try {
      await Promise.all(ids.map((id) => this.#watchers.add(id, watcher)));
      snapshot = await this.#versioned(ids);
    } catch (error) {
      // The stream never opens, so its close callbacks will not run: unregister here.
      this.#unwatch(watcher, ids);
      throw error;
    }
    session.onClosed(() => this.#unwatch(watcher, ids));
    for (const [id, { version }] of snapshot) {
      watcher.versions.set(id, version);
      if (version > (this.#versions.get(id) ?? -1)) this.#versions.set(id, version);
    }
    session.sendStreamMessage({
      snapshot: true,
      updates: ids.map((id) => snapshot.get(id)?.presence ?? neverSeen(id)),
    });
    // Changes that came in while the snapshot was read go next, minus what it already had.
    watcher.ready = true;
    for (const [id, note] of watcher.pending)
      if (note.version <= (watcher.versions.get(id) ?? -1)) watcher.pending.delete(id);
    if (watcher.pending.size > 0) this.#scheduleFlush();
  }

  /** Local devices, for metrics and tests. */
  get deviceCount(): number {
    return this.#devices.size;
  }

  /** Users watched on this node, for leak checks. */
  get watchedUserCount(): number {
    return this.#watchers.size;
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
    clearTimeout(this.#flushTimer);
    this.#stopResync();
    await this.#ticking;
    try {
      const at = new Date();
      for (const change of await this.#store.releaseNode(this.nodeId, at)) await this.#published(change);
    } catch (error) {
      this.#log.warn({ err: error }, 'presence: could not release this node; its lease will expire');
    }
    this.#watchers.clear();
    this.#versions.clear();
  }

  #touch(device: Device, now: number): void {
    device.lastActivityAt = now;
    if (!device.idle) return;
    device.idle = false;
    this.#deviceGeneration++;
    void this.#apply(device.userId, () =>
      this.#store.setDevice({ nodeId: this.nodeId, userId: device.userId, deviceId: device.deviceId, idle: false }),
    ).catch(() => undefined);
  }

  #sweepIdle(): void {
    const deadline = Date.now() - this.#idleAfterMs;
    for (const [connection, device] of this.#devices) {
      // A connection whose token expired is no longer a user, even while it answers pings.
      if (connection.user === null) {
        this.connectionClosed(connection).catch(() => undefined);
        continue;
      }
      if (device.idle || device.lastActivityAt > deadline) continue;
      device.idle = true;
      this.#deviceGeneration++;
      void this.#apply(device.userId, () =>
        this.#store.setDevice({ nodeId: this.nodeId, userId: device.userId, deviceId: device.deviceId, idle: true }),
      ).catch(() => undefined);
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
    this.#bus.publish<PresenceNote>(topic(change.after.userId), { presence: change.after, version: change.version });
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
      for (const expired of await this.#store.expireNodes()) {
        this.#log.warn({ node: expired.nodeId, users: expired.changes.length }, 'presence: expired a silent node');
        for (const change of expired.changes) await this.#published(change);
      }
    } catch (error) {
      this.#needsSync = true;
      this.#log.warn({ err: error }, 'presence: the store is unreachable; will retry');
    }
  }

  /** Makes the store hold exactly this node's devices; runs again if a device changed meanwhile. */
  async #sync(): Promise<void> {
    for (let round = 0; round < 5; round++) {
      const generation = this.#deviceGeneration;
      const devices = [...this.#devices.values()]
        .filter((d) => d.connection.user !== null)
        .map((d) => ({ nodeId: this.nodeId, userId: d.userId, deviceId: d.deviceId, idle: d.idle }));
      const changes = await this.#store.syncNode({ nodeId: this.nodeId, devices, at: new Date() });
      for (const change of changes) await this.#published(change);
      if (generation === this.#deviceGeneration) {
        this.#needsSync = false;
        this.#log.info({ devices: devices.length }, 'presence: devices announced');
        return;
      }
    }
  }

  /** The store's view of `userIds`, with last seen from the database for users it does not remember. */
  async #versioned(userIds: readonly number[]): Promise<Map<number, VersionedPresence>> {
    const known = await this.#store.get(userIds);
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

  #deliver(note: PresenceNote): void {
    const userId = note.presence.userId;
    // Two nodes may publish one user's changes out of order: the older one is stale.
    if (note.version <= (this.#versions.get(userId) ?? -1)) return;
    this.#versions.set(userId, note.version);
    const watchers = this.#watchers.get(userId);
    if (watchers === undefined) return;
    for (const watcher of watchers) {
      if (watcher.ready && note.version <= (watcher.versions.get(userId) ?? -1)) continue;
      watcher.pending.set(userId, note);
      this.#dirty.add(watcher);
    }
    this.#scheduleFlush();
  }

  /** After a bus outage: the store is the truth; pass on whatever is newer than what was heard. */
  async #rereadWatched(): Promise<void> {
    const ids = [...this.#watchers.keys()];
    if (ids.length === 0) return;
    try {
      for (const [, { presence, version }] of await this.#store.get(ids)) this.#deliver({ presence, version });
    } catch (error) {
      this.#log.warn({ err: error }, 'presence: re-reading watched users failed');
    }
  }

  #scheduleFlush(): void {
    this.#flushTimer ??= setTimeout(() => this.#flush(), this.#batchMs);
  }

  #flush(): void {
    this.#flushTimer = undefined;
    // Most batches hold one change, the same note for every watcher of that user: those
    // share one event, so the change is serialized once however many watch it.
    const single = new Map<PresenceNote, OutgoingEvent<PresenceBatch>>();
    for (const watcher of this.#dirty) {
      // Not yet snapshotted: its changes wait (it stays dirty) until the snapshot is out.
      if (!watcher.ready) continue;
      this.#dirty.delete(watcher);
      const notes = [...watcher.pending.values()];
      watcher.pending.clear();
      for (const note of notes) watcher.versions.set(note.presence.userId, note.version);
      const only = notes.length === 1 ? notes[0] : undefined;
      let event = only === undefined ? undefined : single.get(only);
      if (event === undefined) {
        event = new OutgoingEvent<PresenceBatch>({ snapshot: false, updates: notes.map((n) => n.presence) });
        if (only !== undefined) single.set(only, event);
      }
      watcher.session.send(event);
    }
  }

  #unwatch(watcher: Watcher, ids: readonly number[]): void {
    this.#dirty.delete(watcher);
    for (const id of ids) {
      this.#watchers.remove(id, watcher);
      if (this.#watchers.get(id) === undefined) this.#versions.delete(id);
    }
  }
}
