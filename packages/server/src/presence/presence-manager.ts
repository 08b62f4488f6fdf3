import type { PresenceBatch, UserPresence } from '@streampod/protocol';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Connection } from '../core/connection.js';
import { KeyedQueue } from '../core/keyed-queue.js';
import { OutgoingEvent } from '../core/outgoing-event.js';
import type { StreamingSession } from '../core/session.js';
import type { DB } from '../db/index.js';
import type { FanoutBus } from '../fanout/fanout-bus.js';
import { neverSeen } from './presence-rules.js';
import type { ManualStatus, PresenceChange, PresenceStore } from './presence-store.js';

export interface PresenceManagerOptions {
  store: PresenceStore;
  bus: FanoutBus;
  db: Kysely<DB>;
  log: Logger;
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
  /** Every change of any user's presence on this node (chat tells the user's rooms). */
  onChange?: (change: { before: UserPresence; after: UserPresence }) => void;
}

/** One live, authenticated connection of a user on this node. */
interface Device {
  readonly userId: number;
  readonly deviceId: string;
  lastActivityAt: number;
  idle: boolean;
}

/** One `subscribeToPresence` stream: the users it watches and what it has not been sent yet. */
interface Watcher {
  readonly session: StreamingSession<PresenceBatch, unknown>;
  readonly userIds: ReadonlySet<number>;
  readonly pending: Map<number, UserPresence>;
  /** Its snapshot has gone out: changes may follow (never before it). */
  ready: boolean;
}

const topic = (userId: number) => `presence:${userId}`;

/**
 * Presence for every endpoint: turns connections and activity into device states in the
 * store, publishes each user's changes on the bus, and fans them out to the watchers of
 * that user only, batched per watcher. A change costs work proportional to the watchers of
 * the user who changed, never to the number of users connected.
 */
export class PresenceManager {
  readonly #store: PresenceStore;
  readonly #bus: FanoutBus;
  readonly #db: Kysely<DB>;
  readonly #log: Logger;
  readonly #idleAfterMs: number;
  readonly #batchMs: number;
  readonly #onChange: ((change: { before: UserPresence; after: UserPresence }) => void) | undefined;
  readonly #devices = new Map<Connection, Device>();
  readonly #devicesByUser = new Map<number, Set<Device>>();
  readonly #watchers = new Map<number, Set<Watcher>>();
  readonly #unsubscribes = new Map<number, () => void>();
  readonly #dirty = new Set<Watcher>();
  readonly #idleSweep: NodeJS.Timeout;
  /** Serializes store updates per user, so their changes are published in order. */
  readonly #queue = new KeyedQueue<number>();
  #flushTimer: NodeJS.Timeout | undefined;

  constructor(opts: PresenceManagerOptions) {
    this.#store = opts.store;
    this.#bus = opts.bus;
    this.#db = opts.db;
    this.#log = opts.log;
    this.#idleAfterMs = opts.idleAfterMs ?? 300_000;
    this.#batchMs = opts.batchMs ?? 50;
    this.#onChange = opts.onChange;
    // One sweep for all devices; a device goes idle at most a quarter of the timeout late.
    const sweepMs = Math.min(5_000, Math.max(10, Math.floor(this.#idleAfterMs / 4)));
    this.#idleSweep = setInterval(() => this.#sweepIdle(), sweepMs);
    this.#idleSweep.unref();
  }

  /** A connection is ready: an authenticated one becomes a device of its user. */
  async connectionOpened(connection: Connection): Promise<void> {
    const user = connection.user;
    if (user === null || this.#devices.has(connection)) return;
    const device: Device = { userId: user.id, deviceId: connection.id, lastActivityAt: Date.now(), idle: false };
    this.#devices.set(connection, device);
    let set = this.#devicesByUser.get(user.id);
    if (set === undefined) this.#devicesByUser.set(user.id, (set = new Set()));
    set.add(device);
    await this.#apply(user.id, () =>
      this.#store.setDevice({ userId: user.id, deviceId: device.deviceId, idle: false }),
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
    const at = new Date();
    // Saved inside the user's queue, so a flapping device cannot save an older time last.
    await this.#apply(device.userId, async () => {
      const change = await this.#store.removeDevice({ userId: device.userId, deviceId: device.deviceId, at });
      if (change.after.status === 'offline' && change.changed) await this.#saveLastSeen(device.userId, at);
      return change;
    });
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
    const known = await this.#store.get(userIds);
    const unknown = userIds.filter((id) => {
      const p = known.get(id);
      return p === undefined || (p.status === 'offline' && p.lastSeen === null);
    });
    if (unknown.length > 0) {
      const rows = await this.#db.selectFrom('users').select(['id', 'lastSeenAt']).where('id', 'in', unknown).execute();
      for (const row of rows)
        known.set(row.id, { userId: row.id, status: 'offline', lastSeen: row.lastSeenAt, devices: 0 });
    }
    return userIds.map((id) => known.get(id) ?? neverSeen(id));
  }

  /**
   * Starts a presence stream: registers the watcher first (so no change is missed), then
   * sends the snapshot of every requested user; later batches carry changes only.
   */
  async watch(session: StreamingSession<PresenceBatch, unknown>, userIds: readonly number[]): Promise<void> {
    const watcher: Watcher = { session, userIds: new Set(userIds), pending: new Map(), ready: false };
    for (const id of watcher.userIds) {
      let set = this.#watchers.get(id);
      if (set === undefined) {
        this.#watchers.set(id, (set = new Set()));
        this.#unsubscribes.set(
          id,
          this.#bus.subscribe<UserPresence>(topic(id), (p) => this.#deliver(p)),
        );
      }
      set.add(watcher);
    }
    session.onClosed(() => this.#unwatch(watcher));
    let snapshot: UserPresence[];
    try {
      snapshot = await this.getPresence([...watcher.userIds]);
    } catch (error) {
      // The stream never opens, so its close callbacks will not run: unregister here.
      this.#unwatch(watcher);
      throw error;
    }
    session.sendStreamMessage({ snapshot: true, updates: snapshot });
    // Changes that came in while the snapshot was read are at least as new: send them next.
    watcher.ready = true;
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

  close(): void {
    clearInterval(this.#idleSweep);
    clearTimeout(this.#flushTimer);
    for (const unsubscribe of this.#unsubscribes.values()) unsubscribe();
    this.#unsubscribes.clear();
    this.#watchers.clear();
  }

  #touch(device: Device, now: number): void {
    device.lastActivityAt = now;
    if (!device.idle) return;
    device.idle = false;
    void this.#apply(device.userId, () =>
      this.#store.setDevice({ userId: device.userId, deviceId: device.deviceId, idle: false }),
    ).catch((error: unknown) => this.#log.error({ err: error }, 'presence update failed'));
  }

  #sweepIdle(): void {
    const deadline = Date.now() - this.#idleAfterMs;
    for (const [connection, device] of this.#devices) {
      // A connection whose token expired is no longer a user, even while it answers pings.
      if (connection.user === null) {
        this.connectionClosed(connection).catch((error: unknown) =>
          this.#log.error({ err: error }, 'presence update failed'),
        );
        continue;
      }
      if (device.idle || device.lastActivityAt > deadline) continue;
      device.idle = true;
      void this.#apply(device.userId, () =>
        this.#store.setDevice({ userId: device.userId, deviceId: device.deviceId, idle: true }),
      ).catch((error: unknown) => this.#log.error({ err: error }, 'presence update failed'));
    }
  }

  /** Runs one store update for a user after the previous ones, then publishes the change. */
  #apply(userId: number, update: () => Promise<PresenceChange>): Promise<PresenceChange> {
    return this.#queue.run(userId, async () => {
      const change = await update();
      if (change.changed) {
        this.#bus.publish(topic(userId), change.after);
        this.#onChange?.(change);
      }
      return change;
    });
  }

  #deliver(presence: UserPresence): void {
    const watchers = this.#watchers.get(presence.userId);
    if (watchers === undefined) return;
    for (const watcher of watchers) {
      watcher.pending.set(presence.userId, presence);
      this.#dirty.add(watcher);
    }
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    this.#flushTimer ??= setTimeout(() => this.#flush(), this.#batchMs);
  }

  #flush(): void {
    this.#flushTimer = undefined;
    // Most batches hold one change, the same object for every watcher of that user: those
    // share one event, so the change is serialized once however many watch it.
    const single = new Map<UserPresence, OutgoingEvent<PresenceBatch>>();
    for (const watcher of this.#dirty) {
      // Not yet snapshotted: its changes wait (it stays dirty) until the snapshot is out.
      if (!watcher.ready) continue;
      this.#dirty.delete(watcher);
      const updates = [...watcher.pending.values()];
      watcher.pending.clear();
      const only = updates.length === 1 ? updates[0] : undefined;
      let event = only === undefined ? undefined : single.get(only);
      if (event === undefined) {
        event = new OutgoingEvent<PresenceBatch>({ snapshot: false, updates });
        if (only !== undefined) single.set(only, event);
      }
      watcher.session.send(event);
    }
  }

  #unwatch(watcher: Watcher): void {
    this.#dirty.delete(watcher);
    for (const id of watcher.userIds) {
      const set = this.#watchers.get(id);
      if (set === undefined) continue;
      set.delete(watcher);
      if (set.size > 0) continue;
      this.#watchers.delete(id);
      this.#unsubscribes.get(id)?.();
      this.#unsubscribes.delete(id);
    }
  }

  async #saveLastSeen(userId: number, at: Date): Promise<void> {
    try {
      await this.#db
        .updateTable('users')
        .set({ lastSeenAt: at })
        .where('id', '=', userId)
        // Another node may have saved a later time already.
        .where((eb) => eb.or([eb('lastSeenAt', 'is', null), eb('lastSeenAt', '<', at)]))
        .execute();
    } catch (error) {
      this.#log.error({ err: error, userId }, 'saving last seen failed');
    }
  }
}
