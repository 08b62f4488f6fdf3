import {
  OutgoingEvent,
  TopicIndex,
  fail,
  rpcError,
  type FanoutBus,
  type AppContext,
  type StreamSession,
  type Logger,
} from '@streampod/framework';
import { samePresence, type PresenceBatch, type UserPresence } from '@streampod/protocol';
import { HeldPresence } from './held-presence.js';
import type { LastSeenStore } from './last-seen.js';
import { noSharedRoom, strangersOf, type Membership } from './membership.js';
import { neverSeen } from './presence-rules.js';
import { distinct } from '../util/distinct.js';
import type { VersionedPresence } from './presence-store.js';

/** What travels on a user's presence topic. */
export interface PresenceNote {
  readonly presence: UserPresence;
  readonly version: number;
}

/** A `subscribeToPresence` stream: its owner watches the users of its input. */
export type PresenceSession = StreamSession<AppContext, PresenceBatch, { readonly userIds: readonly number[] }>;

/** Who watches: their access is checked again when their rooms change. */
const ownerOf = (session: PresenceSession): number | undefined => {
  const id = session.connection.owner?.id;
  return typeof id === 'number' ? id : undefined;
};

const topic = (userId: number) => `presence:${userId}`;

/** Users whose rooms changed (one left one): watches by them or of them are checked again. */
const ACCESS_TOPIC = 'presence-access';

/**
 * Where the watches of each owner are kept, for finding them when the owner leaves a room. The
 * manager keeps them on its devices (one per connection, there anyway), which costs a watch no
 * slot in a map of owners of its own.
 */
export interface WatchOwners {
  add(ownerId: number, session: PresenceSession): void;
  delete(ownerId: number, session: PresenceSession): void;
  /** The watches of `ownerId` on this node. */
  of(ownerId: number): Iterable<PresenceSession>;
}

export interface PresenceWatchersOptions {
  bus: FanoutBus;
  log: Logger;
  /** Changes within this window reach a watcher as one batch, one entry per user. */
  batchMs: number;
  /** Users' presence as it stands (the store, and last seen from the database): a snapshot. */
  read(userIds: readonly number[]): Promise<Map<number, VersionedPresence>>;
  /** What the store itself knows, after the bus was away. */
  readStore(userIds: readonly number[]): Promise<Map<number, VersionedPresence>>;
  lastSeen: LastSeenStore;
  /** A watched user the store forgot (it lost its memory) is gone once nodes had this long to announce theirs. */
  forgetAfterMs: number;
  /** Who shares a room with whom (see `Membership`): checked again when someone leaves a room. */
  membership: Membership;
  /** The watches of each owner (most hold one). */
  owners: WatchOwners;
}

/**
 * The `subscribeToPresence` streams of this node, indexed by watched user: a change costs
 * work for the watchers of that user only, batched, serialized once per change. After each
 * batch, every watcher of a user has been sent the same thing of that user, kept once per
 * user and node (`HeldPresence`), so only a user's first watcher on a node reads the store: a later
 * one starts from that, or from a change heard since (which the next batch then tells
 * the others only). A snapshot is thus as fresh as what this node has heard on the bus
 * (after an outage, until the resync re-reads the store). Changes of one user published out
 * of order by two nodes are told apart by version; a watcher never gets one older than, or
 * equal to, what it has.
 */
export class PresenceWatchers {
  readonly #bus: FanoutBus;
  readonly #log: Logger;
  readonly #opts: PresenceWatchersOptions;
  /**
   * Watchers by watched user; each user's data is what its watchers have been sent as of the
   * last batch (once read), except a watch still opening, or one in `#given`.
   */
  readonly #watchers: TopicIndex<number, PresenceSession, PresenceNote, HeldPresence>;
  /**
   * The newest change heard of a user and not yet passed on: until the next batch, or, for a
   * user whose first read is on its way, until it is settled against that read.
   */
  readonly #heard = new Map<number, PresenceNote>();
  /**
   * Changes not yet passed on that a watch's snapshot already had (it opened within the
   * batching window), by user: the next batch tells that watch only what differs from them.
   * Emptied by every batch.
   */
  readonly #given = new Map<number, Map<PresenceSession, PresenceNote>>();
  /** First reads of users on their way: watches that need one wait for it rather than read again. */
  readonly #loading = new Map<number, Promise<void>>();
  /** Watches whose snapshot is not out yet: batches pass them by (their snapshot will have it). */
  readonly #opening = new WeakSet<PresenceSession>();
  readonly #owners: WatchOwners;
  /** Departures heard so far: a watch whose access was checked before the latest one checks again. */
  #accessChanges = 0;
  readonly #stopResync: () => void;
  readonly #accessSubscription: Promise<() => void>;
  #flushTimer: NodeJS.Timeout | undefined;

  constructor(opts: PresenceWatchersOptions) {
    this.#bus = opts.bus;
    this.#log = opts.log;
    this.#opts = opts;
    this.#owners = opts.owners;
    this.#watchers = new TopicIndex({ bus: opts.bus, topic, deliver: (userId, note) => this.#deliver(userId, note) });
    // Changes published while the bus was away never came: read the watched users again.
    this.#stopResync = opts.bus.onResync(() => {
      void this.#rereadWatched();
      // Departures announced while the bus was away never came: every watch is checked again (each is
      // under the users it watches; one of nobody has nobody to be refused).
      const every = new Set<PresenceSession>();
      for (const id of this.#watchers.keys()) for (const session of this.#watchers.get(id) ?? []) every.add(session);
      void this.#recheck(every);
    });
    this.#accessSubscription = opts.bus.subscribe<{ userIds: number[] }>(
      ACCESS_TOPIC,
      ({ userIds }) => void this.#recheckAccess(userIds),
    );
    this.#accessSubscription.catch((error: unknown) =>
      this.#log.error({ err: error }, 'presence: could not follow room departures'),
    );
  }

  /**
   * These users left a room: on every node, a watch by one of them, or of one of them, that
   * only that room allowed ends with FORBIDDEN.
   */
  accessChanged(userIds: readonly number[]): void {
    this.#bus.publish(ACCESS_TOPIC, { userIds });
  }

  /** How many departures this node has heard of: read it before checking a watch's access (see `watch`). */
  get accessChanges(): number {
    return this.#accessChanges;
  }

  #recheckAccess(userIds: readonly number[]): Promise<void> {
    const affected = new Set<PresenceSession>();
    for (const id of userIds) {
      for (const session of this.#owners.of(id)) affected.add(session);
      for (const session of this.#watchers.get(id) ?? []) affected.add(session);
    }
    return this.#recheck(affected);
  }

  /** Ends with FORBIDDEN each of these watches whose owner no longer shares a room with every user it watches. */
  async #recheck(affected: ReadonlySet<PresenceSession>): Promise<void> {
    this.#accessChanges++;
    for (const session of affected) {
      try {
        const ownerId = ownerOf(session);
        if (ownerId === undefined) continue;
        const strangers = await strangersOf(this.#opts.membership, ownerId, distinct(session.input.userIds));
        if (strangers.length > 0) session.fail(rpcError('FORBIDDEN', noSharedRoom(strangers)));
      } catch (error) {
        this.#log.warn({ err: error }, 'presence: re-checking a watch failed');
      }
    }
  }

  /** Tells every node's watchers of the user (this node's at once). */
  publish(note: PresenceNote): void {
    this.#bus.publish<PresenceNote>(topic(note.presence.userId), note);
  }

  /**
   * Starts a presence stream for its connection's owner, of the users in its input (whom the
   * caller has checked the owner may watch): registers it and waits until those users'
   * topics are live (so no change is missed), then sends the snapshot of every one of them;
   * later batches carry changes only, and never one older than what the stream was sent.
   * `checkedAt` is `accessChanges` when the caller checked access: a departure heard since,
   * and access is checked again here.
   */
  async watch(session: PresenceSession, checkedAt?: number): Promise<void> {
    const ownerId = ownerOf(session);
    if (ownerId === undefined) fail('UNAUTHORIZED', 'presence: sign in to watch presence');
    const ids = distinct(session.input.userIds);
    this.#opening.add(session);
    this.#owners.add(ownerId, session);
    try {
      await Promise.all(ids.map((id) => this.#watchers.add(id, session)));
      // Registered by owner and by watched user, so departures from now on find this watch; one heard since the
      // caller checked access (between its check and here) is checked again now.
      if (checkedAt !== undefined && checkedAt !== this.#accessChanges) {
        const strangers = await strangersOf(this.#opts.membership, ownerId, ids);
        if (strangers.length > 0) fail('FORBIDDEN', noSharedRoom(strangers));
      }
      await this.#loaded(ids);
    } catch (error) {
      // The stream never opens, so its close callbacks will not run: unregister here.
      this.#unwatch(session);
      throw error;
    }
    session.onClosed(this.#unwatchOnClose, session);
    const updates = ids.map((id) => {
      const sent = this.#watchers.data(id);
      const heard = this.#heard.get(id);
      if (sent === undefined) return neverSeen(id);
      if (heard === undefined || heard.version <= sent.version) return sent.presenceOf(id);
      // The newest this node knows, though the others are told it with the next batch.
      let given = this.#given.get(id);
      if (given === undefined) this.#given.set(id, (given = new Map<PresenceSession, PresenceNote>()));
      given.set(session, heard);
      return heard.presence;
    });
    this.#opening.delete(session);
    session.sendStreamMessage({ snapshot: true, updates });
  }

  /**
   * Every watch's close callback, told its session: a closure made inside `watch` would keep
   * its whole scope alive for as long as the stream lives, and even a bound function per
   * watch is ~80 bytes.
   */
  readonly #unwatchOnClose = (session: PresenceSession): void => this.#unwatch(session);

  /** Resolves once every one of `ids` has been read (by this watch, or by another on its way). */
  async #loaded(ids: readonly number[]): Promise<void> {
    const waits: Promise<void>[] = [];
    let missing: number[] | undefined;
    for (const id of ids) {
      if (this.#watchers.data(id) !== undefined) continue;
      const loading = this.#loading.get(id);
      if (loading !== undefined) waits.push(loading);
      else (missing ??= []).push(id);
    }
    if (missing !== undefined) {
      const wanted = missing;
      // A user whose last watcher left meanwhile is no longer this read's to settle (see `#unwatch`).
      const mine = (id: number) => this.#loading.get(id) === load;
      const load: Promise<void> = this.#opts.read(wanted).then(
        (read) => {
          for (const id of wanted) if (mine(id)) this.#settle(id, read.get(id));
        },
        (error: unknown) => {
          for (const id of wanted) if (mine(id)) this.#loading.delete(id);
          throw error;
        },
      );
      for (const id of wanted) this.#loading.set(id, load);
      waits.push(load);
    }
    if (waits.length > 0) await Promise.all(waits);
  }

  /** A user's first read is in: with what was heard meanwhile, it is what their watchers start from. */
  #settle(userId: number, read: VersionedPresence | undefined): void {
    this.#loading.delete(userId);
    const heard = this.#heard.get(userId);
    this.#heard.delete(userId);
    // No watcher of the user has its snapshot out yet: the newer of the two is simply where they start.
    const note =
      heard !== undefined && heard.version > (read?.version ?? 0)
        ? heard
        : (read ?? { presence: neverSeen(userId), version: 0 });
    this.#watchers.setData(userId, new HeldPresence(note.presence, note.version));
  }

  /** Users watched on this node, for leak checks. */
  get watchedUserCount(): number {
    return this.#watchers.size;
  }

  /** Users with a change, a first read or a late snapshot's note held for them (for leak checks: 0 once none is watched). */
  get heldUserCount(): number {
    return new Set([...this.#heard.keys(), ...this.#given.keys(), ...this.#loading.keys()]).size;
  }

  close(): void {
    clearTimeout(this.#flushTimer);
    this.#stopResync();
    this.#accessSubscription.then(
      (stop) => stop(),
      () => undefined,
    );
    this.#watchers.clear();
    this.#heard.clear();
    this.#given.clear();
    this.#loading.clear();
  }

  #deliver(userId: number, note: PresenceNote): void {
    const sent = this.#watchers.data(userId);
    // Two nodes may publish one user's changes out of order: the older one is stale.
    const last = this.#heard.get(userId) ?? sent;
    if (last !== undefined && note.version <= last.version) return;
    this.#heard.set(userId, note);
    // A user still being read is settled by the read.
    if (sent !== undefined) this.#scheduleFlush();
  }

  /** A re-read's note: the bus calls `#deliver` for watched users only, a re-read may land after the last watch closed. */
  #redeliver(userId: number, note: PresenceNote): void {
    if (this.#watchers.count(userId) > 0) this.#deliver(userId, note);
  }

  /**
   * After a bus outage: the store is the truth; pass on whatever is newer than what was
   * heard. A watched user the store no longer knows (it lost its memory) has no device
   * anywhere: offline, since the database's last seen.
   */
  async #rereadWatched(forgottenToo = false): Promise<void> {
    const ids = [...this.#watchers.keys()];
    if (ids.length === 0) return;
    try {
      const known = await this.#opts.readStore(ids);
      for (const [id, note] of known) this.#redeliver(id, note);
      const forgotten = ids.filter((id) => !known.has(id));
      if (!forgottenToo) {
        // Nodes announce their devices again within a lease: only then is a missing user gone.
        if (forgotten.length > 0) setTimeout(() => void this.#rereadWatched(true), this.#opts.forgetAfterMs).unref();
        return;
      }
      const lastSeen = forgotten.length === 0 ? new Map<number, Date>() : await this.#opts.lastSeen.get(forgotten);
      for (const id of forgotten) {
        const version = (this.#heard.get(id) ?? this.#watchers.data(id))?.version ?? 0;
        const presence = { userId: id, status: 'offline' as const, lastSeen: lastSeen.get(id) ?? null, devices: 0 };
        this.#redeliver(id, { presence, version: version + 1 });
      }
    } catch (error) {
      this.#log.warn({ err: error }, 'presence: re-reading watched users failed');
    }
  }

  #scheduleFlush(): void {
    this.#flushTimer ??= setTimeout(() => this.#flush(), this.#opts.batchMs);
  }

  #flush(): void {
    this.#flushTimer = undefined;
    // Each watcher's changes of this window, one per user: the first as the note itself
    // (most batches hold one), more as an array.
    const batches = new Map<PresenceSession, PresenceNote | PresenceNote[]>();
    for (const [userId, note] of this.#heard) {
      const sent = this.#watchers.data(userId);
      // Still being read: settled by the read.
      if (sent === undefined) continue;
      this.#heard.delete(userId);
      if (note.version <= sent.version) continue;
      this.#watchers.setData(userId, new HeldPresence(note.presence, note.version));
      const given = this.#given.get(userId);
      // Back to what the watchers have (offline and online again within a window): no flicker.
      if (given === undefined && samePresence(sent, note.presence)) continue;
      for (const session of this.#watchers.get(userId) ?? []) {
        if (this.#opening.has(session)) continue;
        const had = given?.get(session);
        if (
          had === undefined
            ? samePresence(sent, note.presence)
            : note.version <= had.version || samePresence(had.presence, note.presence)
        )
          continue;
        const batch = batches.get(session);
        if (batch === undefined) batches.set(session, note);
        else if (Array.isArray(batch)) batch.push(note);
        else batches.set(session, [batch, note]);
      }
    }
    this.#given.clear();
    // A change alone in its batch is one event for every watcher of that user: serialized once.
    const single = new Map<PresenceNote, OutgoingEvent<PresenceBatch>>();
    for (const [session, batch] of batches) {
      let event: OutgoingEvent<PresenceBatch> | undefined;
      if (Array.isArray(batch))
        event = new OutgoingEvent<PresenceBatch>({ snapshot: false, updates: batch.map((n) => n.presence) });
      else if ((event = single.get(batch)) === undefined) {
        event = new OutgoingEvent<PresenceBatch>({ snapshot: false, updates: [batch.presence] });
        single.set(batch, event);
      }
      session.send(event);
    }
  }

  #unwatch(session: PresenceSession): void {
    this.#opening.delete(session);
    const ownerId = ownerOf(session);
    if (ownerId !== undefined) this.#owners.delete(ownerId, session);
    for (const id of session.input.userIds) {
      this.#watchers.remove(id, session);
      if (this.#watchers.count(id) === 0) {
        // Its topic ends: what was heard and read of the user is no longer followed.
        this.#heard.delete(id);
        this.#given.delete(id);
        this.#loading.delete(id);
      }
    }
  }
}
