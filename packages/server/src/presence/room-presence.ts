import {
  OutgoingEvent,
  TopicIndex,
  fail,
  rpcError,
  type AppContext,
  type FanoutBus,
  type Logger,
  type StreamSession,
} from '@streampod/framework';
import type { RoomPresence, RoomPresenceBatch, UserPresence } from '@streampod/protocol';
import type { PresenceNote } from './presence-watchers.js';
import { HeldPresence } from './held-presence.js';
import { neverSeen } from './presence-rules.js';
import type { PresenceChange, VersionedPresence } from './presence-store.js';

/** What travels on a room's member topic: a member's presence, or who joined or left. */
export type MemberNote = PresenceNote | { readonly joined: readonly number[] } | { readonly left: readonly number[] };

/** Who is in which room, as the database has it now. */
export interface RoomMembers {
  /** The room's member ids (empty for an unknown room). */
  membersOf(roomId: number): Promise<number[]>;
  /** Of `userIds`, those that are members of the room now. */
  membersAmong(roomId: number, userIds: readonly number[]): Promise<ReadonlySet<number>>;
  /** The ids of the user's rooms. */
  roomIdsOf(userId: number): Promise<readonly number[]>;
}

export interface RoomPresenceOptions {
  bus: FanoutBus;
  log: Logger;
  members: RoomMembers;
  /** Users' presence as it stands, with versions (the store, and last seen from the database). */
  read: (userIds: readonly number[]) => Promise<Map<number, VersionedPresence>>;
  /**
   * Changes within this window reach a watcher as one batch.
   * @default 50
   */
  batchMs?: number;
  /**
   * Rooms with more members than this are watched by their counts only.
   * @default 1_000
   */
  listLimit?: number;
}

/**
 * One `subscribeToRoom` stream: its session is all a room keeps of it (in the topic index),
 * its room and user read from the session, so a watcher costs no object of its own.
 */
type RoomSession = StreamSession<AppContext, RoomPresenceBatch, { readonly roomId: number }>;

/**
 * One watched room on this node: every member's presence (also above the list limit: the
 * counts need it), and what changed since the last batch. Every watcher of the room gets
 * the same batches, so each is built and serialized once per window.
 */
class WatchedRoom {
  /** A member's presence as this node last heard it, changed in place. */
  readonly members = new Map<number, HeldPresence>();
  onlineCount = 0;
  /** Loaded (members and their presence read, after the topic went live). */
  ready = false;
  /** Presence notes heard while loading (made when one is), applied once loaded. */
  early: PresenceNote[] | undefined;
  /** Newcomers a re-check is reading: their notes heard meanwhile wait here, the latest each. */
  arriving: Map<number, PresenceNote | undefined> | undefined;
  /** Loading, then membership re-checks, one after the other. */
  queue: Promise<void> = Promise.resolve();
  loading: Promise<void> | undefined;
  /** Members changed and departed since the last batch; made when one is (an empty Map or Set costs ~100 bytes). */
  changed: Map<number, UserPresence> | undefined;
  left: Set<number> | undefined;
  /** What the last batch (or snapshot) said: a counts-only room sends only when they moved. */
  sentCounts = '';
  sentListed: boolean | undefined;
  /**
   * The snapshot as it stands, for watchers joining within one window; let go of at the next
   * flush (an idle room kept its frame and string, ~2.5 KB, a quarter of a kilobyte per watcher).
   */
  snapshot: OutgoingEvent<RoomPresenceBatch> | undefined;

  constructor(readonly roomId: number) {}

  serial(work: () => Promise<void>): Promise<void> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

const topic = (roomId: number) => `members:${roomId}`;
const isOnline = (presence: { readonly status: UserPresence['status'] }) => presence.status !== 'offline';

/**
 * Room presence (`presence.subscribeToRoom`, `getRoomPresence`): who of a room's members is
 * here. A status change is published to the member topic of each room of the user, so it
 * costs work for the watchers of those rooms only, on the nodes that have some; a room
 * above the list limit moves its counts at most once per window however many members change.
 */
export class RoomPresenceService {
  readonly #bus: FanoutBus;
  readonly #log: Logger;
  readonly #members: RoomMembers;
  readonly #read: RoomPresenceOptions['read'];
  readonly #batchMs: number;
  readonly #listLimit: number;
  readonly #rooms = new Map<number, WatchedRoom>();
  /** Every watched room's streams, by room: the one list of a room's watchers. */
  readonly #index: TopicIndex<number, RoomSession, MemberNote>;
  readonly #dirty = new Set<WatchedRoom>();
  /**
   * Streams whose snapshot has not gone out yet: batches skip them. Weak, and on the service
   * rather than per room: a stream is in it only while it opens, thousands may open at once.
   */
  readonly #opening = new WeakSet<RoomSession>();
  #flushTimer: NodeJS.Timeout | undefined;
  readonly #stopResync: () => void;

  constructor(opts: RoomPresenceOptions) {
    this.#bus = opts.bus;
    this.#log = opts.log;
    this.#members = opts.members;
    this.#read = opts.read;
    this.#batchMs = opts.batchMs ?? 50;
    this.#listLimit = opts.listLimit ?? 1_000;
    this.#index = new TopicIndex({ bus: opts.bus, topic, deliver: (roomId, note) => this.#deliver(roomId, note) });
    // Notes published while the bus was away never came: each watched room reads itself again.
    this.#stopResync = opts.bus.onResync(() => {
      for (const room of this.#rooms.values())
        room
          .serial(() => this.#reread(room))
          .catch((error: unknown) =>
            this.#log.warn({ err: error, roomId: room.roomId }, 'room presence: re-reading after a bus outage failed'),
          );
    });
  }

  /** A user's presence changed (on this node): every room of theirs hears of it, on every node. */
  async changed(change: PresenceChange): Promise<void> {
    if (!change.changed) return;
    const note: PresenceNote = { presence: change.after, version: change.version };
    for (const roomId of await this.#members.roomIdsOf(change.after.userId)) this.#bus.publish(topic(roomId), note);
  }

  /** Members joined or left a room (already in the database): its watchers on every node re-check them. */
  membersChanged(roomId: number, change: { joined?: readonly number[]; left?: readonly number[] }): void {
    if (change.joined !== undefined && change.joined.length > 0)
      this.#bus.publish<MemberNote>(topic(roomId), { joined: change.joined });
    if (change.left !== undefined && change.left.length > 0)
      this.#bus.publish<MemberNote>(topic(roomId), { left: change.left });
  }

  /**
   * Starts a room presence stream for a member: a snapshot, then coalesced batches; ended
   * with FORBIDDEN when the user leaves the room. The room is the stream's input's, as its
   * close finds it again there.
   */
  async watch(session: RoomSession, userId: number): Promise<void> {
    const roomId = session.input.roomId;
    // Checked first, so a stranger cannot make this node load a room.
    if ((await this.#members.membersAmong(roomId, [userId])).size === 0) forbidden(roomId);
    let room = this.#rooms.get(roomId);
    if (room === undefined) this.#rooms.set(roomId, (room = new WatchedRoom(roomId)));
    this.#opening.add(session);
    try {
      const live = this.#index.add(roomId, session);
      room.loading ??= this.#load(room, live);
      await live;
      await room.loading;
      // The database said member, this node's copy does not know yet (the join's note is on
      // its way): re-read this user, after whatever the room is doing, then decide.
      if (!room.members.has(userId)) await room.serial(() => this.#recheck(room, [userId]));
      if (!room.members.has(userId)) forbidden(roomId);
    } catch (error) {
      this.#unwatch(room, session);
      throw error;
    }
    session.onClosed(this.#unwatchOnClose, session);
    session.send(this.#snapshotOf(room));
    this.#opening.delete(session);
  }

  /** The room's presence as one snapshot, for a member; FORBIDDEN for anyone else. */
  async get(input: { userId: number; roomId: number }): Promise<RoomPresence> {
    const { userId, roomId } = input;
    const room = this.#rooms.get(roomId);
    if (room?.ready === true) {
      // Membership from the database (one indexed lookup): this node's copy may lag a join or a leave.
      if ((await this.#members.membersAmong(roomId, [userId])).size === 0) forbidden(roomId);
      if (!room.members.has(userId)) await room.serial(() => this.#recheck(room, [userId]));
      return this.#presenceOf(room);
    }
    const memberIds = await this.#members.membersOf(roomId);
    if (!memberIds.includes(userId)) forbidden(roomId);
    const known = await this.#read(memberIds);
    const members = memberIds.map((id) => known.get(id)?.presence ?? neverSeen(id));
    const listed = members.length <= this.#listLimit;
    return {
      roomId,
      memberCount: members.length,
      onlineCount: members.filter(isOnline).length,
      listed,
      members: listed ? members : [],
    };
  }

  /** Rooms watched on this node, for leak checks. */
  get watchedRoomCount(): number {
    return this.#rooms.size;
  }

  close(): void {
    this.#stopResync();
    clearTimeout(this.#flushTimer);
    this.#index.clear();
    this.#rooms.clear();
    this.#dirty.clear();
  }

  /** Reads the room once its topic is live, so nothing published after the read is missed. */
  #load(room: WatchedRoom, live: Promise<void>): Promise<void> {
    const loading = room.serial(async () => {
      await live;
      const ids = await this.#members.membersOf(room.roomId);
      const known = await this.#read(ids);
      for (const id of ids) {
        const presence = known.get(id);
        this.#setMember(room, presence?.presence ?? neverSeen(id), presence?.version ?? 0);
      }
      room.ready = true;
      for (const note of room.early ?? []) this.#applyPresence(room, note);
      room.early = undefined;
      room.changed = undefined;
      room.sentListed = this.#listed(room);
      room.sentCounts = countsOf(room);
    });
    // A failed load is tried again by the next watcher.
    loading.catch(() => {
      if (!room.ready) room.loading = undefined;
    });
    return loading;
  }

  #deliver(roomId: number, note: MemberNote): void {
    const room = this.#rooms.get(roomId);
    if (room === undefined) return;
    if ('presence' in note) {
      if (room.ready) this.#applyPresence(room, note);
      else (room.early ??= []).push(note);
      return;
    }
    const ids = 'joined' in note ? note.joined : note.left;
    // After the load and any earlier re-check: each reads the database after the change it
    // was told of, so the last one leaves the room as it is.
    room
      .serial(() => this.#recheck(room, ids))
      .catch((error: unknown) => this.#log.warn({ err: error, roomId }, 'room presence: re-checking members failed'));
  }

  async #recheck(room: WatchedRoom, ids: readonly number[]): Promise<void> {
    if (!room.ready || this.#rooms.get(room.roomId) !== room) return;
    const present = await this.#members.membersAmong(room.roomId, ids);
    const newcomers = ids.filter((id) => present.has(id) && !room.members.has(id));
    // A newcomer's change heard while their presence is read must not be lost: it waits.
    const heard = new Map<number, PresenceNote | undefined>(newcomers.map((id) => [id, undefined]));
    room.arriving = heard;
    let known = new Map<number, VersionedPresence>();
    try {
      if (newcomers.length > 0) known = await this.#read(newcomers);
    } finally {
      room.arriving = undefined;
    }
    for (const id of newcomers) {
      const read = known.get(id);
      const later = heard.get(id);
      const latest = later !== undefined && later.version > (read?.version ?? 0) ? later : read;
      const presence = latest?.presence ?? neverSeen(id);
      this.#setMember(room, presence, latest?.version ?? 0);
      room.left?.delete(id);
      (room.changed ??= new Map()).set(id, presence);
    }
    for (const id of ids) {
      const member = room.members.get(id);
      if (present.has(id) || member === undefined) continue;
      room.members.delete(id);
      if (isOnline(member)) room.onlineCount--;
      room.changed?.delete(id);
      (room.left ??= new Set()).add(id);
      // A copy: each failed stream leaves the index as it closes.
      for (const session of [...(this.#index.get(room.roomId) ?? [])]) {
        // The owner, not `user`: a token that expired a moment ago still names who this is.
        if (session.connection.owner?.id !== id) continue;
        session.fail(rpcError('FORBIDDEN', `roomId: you left room ${room.roomId}`));
      }
    }
    this.#touched(room);
  }

  /** Members who came or went, and presence that moved, while the bus was away. */
  async #reread(room: WatchedRoom): Promise<void> {
    if (!room.ready || this.#rooms.get(room.roomId) !== room) return;
    const ids = await this.#members.membersOf(room.roomId);
    const now = new Set(ids);
    const moved = [
      ...ids.filter((id) => !room.members.has(id)),
      ...[...room.members.keys()].filter((id) => !now.has(id)),
    ];
    if (moved.length > 0) await this.#recheck(room, moved);
    const known = await this.#read(ids);
    for (const [, versioned] of known) this.#applyPresence(room, versioned);
  }

  #applyPresence(room: WatchedRoom, note: PresenceNote): void {
    const userId = note.presence.userId;
    const member = room.members.get(userId);
    if (member === undefined && room.arriving?.has(userId) === true) {
      const waiting = room.arriving.get(userId);
      if (waiting === undefined || note.version > waiting.version) room.arriving.set(userId, note);
      return;
    }
    // Not a member (any more, or not yet: a re-check reads newcomers itself), or stale.
    if (member === undefined || note.version <= member.version) return;
    this.#setMember(room, note.presence, note.version);
    (room.changed ??= new Map()).set(userId, note.presence);
    this.#touched(room);
  }

  #setMember(room: WatchedRoom, presence: UserPresence, version: number): void {
    const member = room.members.get(presence.userId);
    if (member !== undefined && isOnline(member)) room.onlineCount--;
    if (isOnline(presence)) room.onlineCount++;
    if (member === undefined) room.members.set(presence.userId, new HeldPresence(presence, version));
    else member.set(presence, version);
  }

  #touched(room: WatchedRoom): void {
    room.snapshot = undefined;
    this.#scheduleFlush(room);
  }

  #scheduleFlush(room: WatchedRoom): void {
    this.#dirty.add(room);
    this.#flushTimer ??= setTimeout(() => this.#flush(), this.#batchMs);
  }

  #flush(): void {
    this.#flushTimer = undefined;
    // Taken out first: a room that crosses the limit makes a snapshot, which waits for the next flush.
    const dirty = [...this.#dirty];
    this.#dirty.clear();
    for (const room of dirty) {
      room.snapshot = undefined;
      const batch = this.#batchOf(room);
      room.changed = undefined;
      room.left = undefined;
      if (batch === undefined) continue;
      for (const session of this.#index.get(room.roomId) ?? []) if (!this.#opening.has(session)) session.send(batch);
    }
  }

  /**
   * What a room's watchers hear for the last window: the changed and departed members while
   * listed; the counts alone above the limit, only if they moved; a fresh snapshot when the
   * room crossed the limit (listed again, the watchers need every member).
   */
  #batchOf(room: WatchedRoom): OutgoingEvent<RoomPresenceBatch> | undefined {
    const listed = this.#listed(room);
    const counts = countsOf(room);
    const crossed = listed !== room.sentListed;
    room.sentListed = listed;
    if (crossed) {
      room.sentCounts = counts;
      return this.#snapshotOf(room);
    }
    if (listed ? (room.changed?.size ?? 0) === 0 && (room.left?.size ?? 0) === 0 : counts === room.sentCounts)
      return undefined;
    room.sentCounts = counts;
    return new OutgoingEvent<RoomPresenceBatch>({
      roomId: room.roomId,
      snapshot: false,
      memberCount: room.members.size,
      onlineCount: room.onlineCount,
      listed,
      updates: listed ? [...(room.changed?.values() ?? [])] : [],
      left: listed ? [...(room.left ?? [])] : [],
    });
  }

  /**
   * The room as it stands, shared by every watcher that joins before it changes. A watcher
   * that joins within a window may later get that window's changes again: the same latest
   * states, harmless to apply twice.
   */
  #snapshotOf(room: WatchedRoom): OutgoingEvent<RoomPresenceBatch> {
    if (room.snapshot !== undefined) return room.snapshot;
    this.#scheduleFlush(room);
    const presence = this.#presenceOf(room);
    room.snapshot = new OutgoingEvent<RoomPresenceBatch>({
      roomId: room.roomId,
      snapshot: true,
      memberCount: presence.memberCount,
      onlineCount: presence.onlineCount,
      listed: presence.listed,
      updates: presence.members,
      left: [],
    });
    return room.snapshot;
  }

  #presenceOf(room: WatchedRoom): RoomPresence {
    const listed = this.#listed(room);
    return {
      roomId: room.roomId,
      memberCount: room.members.size,
      onlineCount: room.onlineCount,
      listed,
      members: listed
        ? Array.from(room.members, ([userId, member]) => member.presenceOf(userId)).sort((a, b) => a.userId - b.userId)
        : [],
    };
  }

  #listed(room: WatchedRoom): boolean {
    return room.members.size <= this.#listLimit;
  }

  /**
   * Every stream's close callback, told its session: a closure inside `watch` would keep its
   * whole scope alive with the stream, and even a bound function per stream is ~80 bytes.
   */
  readonly #unwatchOnClose = (session: RoomSession): void => {
    const room = this.#rooms.get(session.input.roomId);
    if (room !== undefined) this.#unwatch(room, session);
  };

  #unwatch(room: WatchedRoom, session: RoomSession): void {
    this.#opening.delete(session);
    this.#index.remove(room.roomId, session);
    if (this.#index.count(room.roomId) > 0 || this.#rooms.get(room.roomId) !== room) return;
    this.#rooms.delete(room.roomId);
    this.#dirty.delete(room);
  }
}

function countsOf(room: WatchedRoom): string {
  return `${room.members.size}/${room.onlineCount}`;
}

function forbidden(roomId: number): never {
  return fail('FORBIDDEN', `roomId: you are not a member of room ${roomId}`);
}
