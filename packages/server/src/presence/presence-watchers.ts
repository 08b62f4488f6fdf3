import {
  OutgoingEvent,
  SetMap,
  TopicIndex,
  fail,
  rpcError,
  type FanoutBus,
  type AppContext,
  type StreamSession,
  type Logger,
} from '@streampod/framework';
import { samePresence, type PresenceBatch, type UserPresence } from '@streampod/protocol';
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

/** Longer watch lists find a user's position through a map; shorter ones by scanning. */
const SCANNED_IDS = 16;

/**
 * One `subscribeToPresence` stream: what it watches, what it has seen, and what it has not
 * been sent yet. (TypeScript's `private`, not `#`: a `#` method costs every instance a slot
 * for its brand.)
 */
class Watcher {
  /** Made when a change first waits (most watchers are idle most of the time). */
  pending: Map<number, PresenceNote> | undefined = undefined;
  /** Its snapshot has gone out: changes may follow (never before it). */
  ready = false;
  /**
   * What the stream has been sent of each user (its snapshot, then changes), by position in
   * `ids`: a map per watch would cost ~0.7 KB, most of a watch of ten.
   */
  private readonly sentNotes: (PresenceNote | undefined)[];
  private positions: Map<number, number> | undefined;

  constructor(
    readonly session: StreamSession<AppContext, PresenceBatch, unknown>,
    /** Who watches: their access is checked again when their rooms change. */
    readonly ownerId: number,
    /** Distinct user ids. */
    readonly ids: readonly number[],
  ) {
    this.sentNotes = new Array<PresenceNote | undefined>(ids.length);
  }

  /** What the stream has been sent of `userId`, if anything. */
  sent(userId: number): PresenceNote | undefined {
    const at = this.position(userId);
    return at < 0 ? undefined : this.sentNotes[at];
  }

  markSent(note: PresenceNote): void {
    const at = this.position(note.presence.userId);
    if (at >= 0) this.sentNotes[at] = note;
  }

  private position(userId: number): number {
    if (this.ids.length <= SCANNED_IDS) return this.ids.indexOf(userId);
    this.positions ??= new Map(this.ids.map((id, at) => [id, at]));
    return this.positions.get(userId) ?? -1;
  }
}

const topic = (userId: number) => `presence:${userId}`;
/** Users whose rooms changed (one left one): watches by them or of them are checked again. */
const ACCESS_TOPIC = 'presence-access';

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
}

/**
 * The `subscribeToPresence` streams of this node, indexed by watched user: a change costs
 * work for the watchers of that user only, batched per watcher, serialized once per change.
 * Changes of one user published out of order by two nodes are told apart by version; a
 * watcher never gets one older than, or equal to, what it has.
 */
export class PresenceWatchers {
  readonly #bus: FanoutBus;
  readonly #log: Logger;
  readonly #opts: PresenceWatchersOptions;
  readonly #watchers: TopicIndex<number, Watcher, PresenceNote>;
  /** The newest change of each watched user this node has heard of (snapshots do not count). */
  readonly #latest = new Map<number, PresenceNote>();
  /** The latest snapshot note of each watched user, shared by the watchers given it (see `#shared`). */
  readonly #snapshots = new Map<number, PresenceNote>();
  readonly #dirty = new Set<Watcher>();
  /** The watches of each owner (most hold one). */
  readonly #byOwner = new SetMap<number, Watcher>();
  /** Departures heard so far: a watch whose access was checked before the latest one checks again. */
  #accessChanges = 0;
  readonly #stopResync: () => void;
  readonly #accessSubscription: Promise<() => void>;
  #flushTimer: NodeJS.Timeout | undefined;

  constructor(opts: PresenceWatchersOptions) {
    this.#bus = opts.bus;
    this.#log = opts.log;
    this.#opts = opts;
    this.#watchers = new TopicIndex({ bus: opts.bus, topic, deliver: (_id, note) => this.#deliver(note) });
    // Changes published while the bus was away never came: read the watched users again.
    this.#stopResync = opts.bus.onResync(() => {
      void this.#rereadWatched();
      // Departures announced while the bus was away never came: every watch is checked again.
      void this.#recheckAccess([...this.#byOwner.keys()]);
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

  async #recheckAccess(userIds: readonly number[]): Promise<void> {
    this.#accessChanges++;
    const affected = new Set<Watcher>();
    for (const id of userIds) {
      for (const watcher of this.#byOwner.get(id)) affected.add(watcher);
      for (const watcher of this.#watchers.get(id) ?? []) affected.add(watcher);
    }
    for (const watcher of affected) {
      try {
        const strangers = await strangersOf(this.#opts.membership, watcher.ownerId, watcher.ids);
        if (strangers.length > 0) watcher.session.fail(rpcError('FORBIDDEN', noSharedRoom(strangers)));
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
   * Starts a presence stream: registers the watcher and waits until its users' topics are
   * live (so no change is missed), then sends the snapshot of every requested user; later
   * batches carry changes only, and never one older than what the stream was sent.
   */
  async watch(
    session: StreamSession<AppContext, PresenceBatch, unknown>,
    input: {
      ownerId: number;
      userIds: readonly number[];
      /** `accessChanges` when the caller checked access: a departure since, and it is checked again here. */
      checkedAt?: number;
    },
  ): Promise<void> {
    const ids = distinct(input.userIds);
    const watcher = new Watcher(session, input.ownerId, ids);
    this.#byOwner.add(watcher.ownerId, watcher);
    let snapshot: Map<number, VersionedPresence>;
    try {
      await Promise.all(ids.map((id) => this.#watchers.add(id, watcher)));
      // Registered by owner and by watched user, so departures from now on find this watch; one heard since the
      // caller checked access (between its check and here) is checked again now.
      if (input.checkedAt !== undefined && input.checkedAt !== this.#accessChanges) {
        const strangers = await strangersOf(this.#opts.membership, input.ownerId, ids);
        if (strangers.length > 0) fail('FORBIDDEN', noSharedRoom(strangers));
      }
      snapshot = await this.#opts.read(ids);
    } catch (error) {
      // The stream never opens, so its close callbacks will not run: unregister here.
      this.#unwatch(watcher);
      throw error;
    }
    session.onClosed(this.#unwatchOnClose, watcher);
    const updates = ids.map((id) => {
      const known = snapshot.get(id);
      const note = this.#shared({ presence: known?.presence ?? neverSeen(id), version: known?.version ?? 0 });
      // Only this watcher's view: another watcher may not have had this version yet.
      watcher.markSent(note);
      return note.presence;
    });
    session.sendStreamMessage({ snapshot: true, updates });
    // Changes that came in while the snapshot was read go next, minus what it already had.
    watcher.ready = true;
    const pending = watcher.pending;
    if (pending !== undefined) {
      for (const [id, note] of pending) if (!isNews(watcher.sent(id), note)) pending.delete(id);
      if (pending.size > 0) this.#scheduleFlush();
    }
  }

  /**
   * Every watch's close callback, told its watcher: a closure made inside `watch` would keep
   * its whole scope alive (the snapshot read, ~1.5 KB) for as long as the stream lives, and
   * even a bound function per watch is ~80 bytes.
   */
  readonly #unwatchOnClose = (watcher: Watcher): void => this.#unwatch(watcher);

  /**
   * One note object per user and state on this node: watchers of a user keep (in `sent`) the
   * snapshot they were given, and most were given the same one, so they share it.
   */
  #shared(note: PresenceNote): PresenceNote {
    const userId = note.presence.userId;
    const known = this.#snapshots.get(userId);
    if (known !== undefined && known.version === note.version && samePresence(known.presence, note.presence))
      return known;
    this.#snapshots.set(userId, note);
    return note;
  }

  /** Users watched on this node, for leak checks. */
  get watchedUserCount(): number {
    return this.#watchers.size;
  }

  close(): void {
    clearTimeout(this.#flushTimer);
    this.#stopResync();
    this.#accessSubscription.then(
      (stop) => stop(),
      () => undefined,
    );
    this.#byOwner.clear();
    this.#watchers.clear();
    this.#latest.clear();
    this.#snapshots.clear();
  }

  #deliver(note: PresenceNote): void {
    const userId = note.presence.userId;
    // Two nodes may publish one user's changes out of order: the older one is stale.
    if (note.version <= (this.#latest.get(userId)?.version ?? -1)) return;
    this.#latest.set(userId, note);
    const watchers = this.#watchers.get(userId);
    if (watchers === undefined) return;
    for (const watcher of watchers) {
      if (!watcher.ready) {
        // Sorted out against the snapshot once it is out.
        (watcher.pending ??= new Map()).set(userId, note);
        this.#dirty.add(watcher);
        continue;
      }
      const sent = watcher.sent(userId);
      if (sent !== undefined && note.version <= sent.version) continue;
      if (sent !== undefined && samePresence(sent.presence, note.presence)) {
        // Back to what the watcher has (offline and online again within a window): no flicker.
        watcher.pending?.delete(userId);
        continue;
      }
      (watcher.pending ??= new Map()).set(userId, note);
      this.#dirty.add(watcher);
    }
    this.#scheduleFlush();
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
      for (const [, { presence, version }] of known) this.#deliver({ presence, version });
      const forgotten = ids.filter((id) => !known.has(id));
      if (!forgottenToo) {
        // Nodes announce their devices again within a lease: only then is a missing user gone.
        if (forgotten.length > 0) setTimeout(() => void this.#rereadWatched(true), this.#opts.forgetAfterMs).unref();
        return;
      }
      const lastSeen = forgotten.length === 0 ? new Map<number, Date>() : await this.#opts.lastSeen.get(forgotten);
      for (const id of forgotten) {
        let version = this.#latest.get(id)?.version ?? 0;
        for (const watcher of this.#watchers.get(id) ?? []) version = Math.max(version, watcher.sent(id)?.version ?? 0);
        const presence = { userId: id, status: 'offline' as const, lastSeen: lastSeen.get(id) ?? null, devices: 0 };
        this.#deliver({ presence, version: version + 1 });
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
    // Most batches hold one change, the same note for every watcher of that user: those
    // share one event, so the change is serialized once however many watch it.
    const single = new Map<PresenceNote, OutgoingEvent<PresenceBatch>>();
    for (const watcher of this.#dirty) {
      // Not yet snapshotted: its changes wait (it stays dirty) until the snapshot is out.
      if (!watcher.ready) continue;
      this.#dirty.delete(watcher);
      const notes = [...(watcher.pending?.values() ?? [])];
      watcher.pending = undefined;
      if (notes.length === 0) continue;
      for (const note of notes) watcher.markSent(note);
      const only = notes.length === 1 ? notes[0] : undefined;
      let event = only === undefined ? undefined : single.get(only);
      if (event === undefined) {
        event = new OutgoingEvent<PresenceBatch>({ snapshot: false, updates: notes.map((n) => n.presence) });
        if (only !== undefined) single.set(only, event);
      }
      watcher.session.send(event);
    }
  }

  #unwatch(watcher: Watcher): void {
    this.#dirty.delete(watcher);
    this.#byOwner.delete(watcher.ownerId, watcher);
    for (const id of watcher.ids) {
      this.#watchers.remove(id, watcher);
      if (this.#watchers.get(id) === undefined) {
        this.#latest.delete(id);
        this.#snapshots.delete(id);
      }
    }
  }
}

/** Whether `note` tells a watcher that was sent `sent` something: newer, and different. */
function isNews(sent: PresenceNote | undefined, note: PresenceNote): boolean {
  return sent === undefined || (note.version > sent.version && !samePresence(sent.presence, note.presence));
}
