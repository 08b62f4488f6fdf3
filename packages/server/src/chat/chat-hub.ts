import { OutgoingEvent, TopicIndex, fail, type FanoutBus, type Logger } from '@streampod/framework';
import type { ChatStreamMessage } from '@streampod/protocol';
import type { CatchUpInput, RoomsSnapshot } from './message-repository.js';
import { FILL_PAGE, RoomChannel, type RoomChannelDeps, type RoomEvent } from './room-channel.js';
import {
  deliveryOf,
  freshPosition,
  StreamFollower,
  type ChatSession,
  type FollowerDeps,
  type Membership,
} from './stream-follower.js';
import type { StreamPosition } from './stream-position.js';

export type { RoomEvent } from './room-channel.js';
export type { ChatSession, Membership } from './stream-follower.js';

/** What travels on a user's bus topic: a room they joined (and the seq they joined at), or left. */
export type UserEvent = { readonly joinedRoomId: number; readonly joinedSeq: number } | { readonly leftRoomId: number };

/** Where the hub reads what the bus cannot give it: the database and the typing store. */
export interface ChatHubLoader extends Omit<RoomChannelDeps, 'deliver' | 'log'> {
  membershipsOf(userId: number): Promise<Membership[]>;
  /** Rooms of any of `userIds` joined within the last `withinMs`. */
  recentMemberships(input: {
    userIds: readonly number[];
    withinMs: number;
  }): Promise<(Membership & { userId: number })[]>;
  /** Which of `pairs` are memberships still (the others left, or were never in). */
  stillMembers(pairs: readonly { userId: number; roomId: number }[]): Promise<{ userId: number; roomId: number }[]>;
  /** Rooms as one snapshot sees them; with `base`, each room's seq at that message id too. */
  snapshot(
    roomIds: readonly number[],
    base?: number,
  ): Promise<RoomsSnapshot & { seqAtBase?: ReadonlyMap<number, number> }>;
  /** What a stream resuming at `from` missed (see `MessageRepository.catchUp`), as room events. */
  catchUp(input: CatchUpInput): Promise<{ snapshot: RoomsSnapshot; events: RoomEvent[]; more: boolean }>;
}

export interface ChatHubOptions {
  bus: FanoutBus;
  log: Logger;
  loader: ChatHubLoader;
  /**
   * Most missed messages a resuming stream replays; beyond, it replays the latest ones and
   * flags the first with `gapBefore` so the client reloads history.
   * @default 1_000
   */
  maxCatchUp?: number;
  /**
   * A stream whose position lists more rooms than this folds them into a newer base.
   * @default 32
   */
  maxListedRooms?: number;
}

const roomTopic = (roomId: number) => `room:${roomId}`;
const userTopic = (userId: number) => `user:${userId}`;
/** Live events a stream may hold while it catches up before it must start over. */
const MAX_BUFFERED = 50_000;

/**
 * Chat fan-out on this node. Every room event goes through the bus once and is serialized
 * once, whatever number of streams here follow the room; one `RoomChannel` per room keeps
 * the room's order. Each stream follows all its user's rooms (including rooms joined while
 * it is open) and carries its position (see `stream-position.ts`) as its tracked event id.
 * A stream that finds a room's channel ahead of its own snapshot reads the difference from
 * the database itself, so it never depends on what others had the channel do.
 */
export class ChatHub {
  readonly #bus: FanoutBus;
  readonly #log: Logger;
  readonly #loader: ChatHubLoader;
  readonly #maxCatchUp: number;
  readonly #followerDeps: FollowerDeps;
  readonly #rooms: TopicIndex<number, StreamFollower, RoomEvent>;
  readonly #users: TopicIndex<number, StreamFollower, UserEvent>;
  readonly #channels = new Map<number, RoomChannel>();
  readonly #bySession = new Map<ChatSession, StreamFollower>();
  readonly #stopResync: () => void;

  constructor(opts: ChatHubOptions) {
    this.#bus = opts.bus;
    this.#log = opts.log;
    this.#loader = opts.loader;
    this.#maxCatchUp = opts.maxCatchUp ?? 1_000;
    this.#followerDeps = {
      log: opts.log,
      snapshot: (roomIds, base) => this.#loader.snapshot(roomIds, base),
      maxListed: opts.maxListedRooms ?? 32,
    };
    this.#rooms = new TopicIndex({
      bus: opts.bus,
      topic: roomTopic,
      deliver: (roomId, event) => this.#channels.get(roomId)?.receive(event),
    });
    this.#users = new TopicIndex({
      bus: opts.bus,
      topic: userTopic,
      deliver: (_id, e, followers) => {
        for (const follower of followers) {
          if ('leftRoomId' in e) this.#left(follower, e.leftRoomId);
          else this.#joined(follower, { roomId: e.joinedRoomId, joinedSeq: e.joinedSeq });
        }
      },
    });
    this.#stopResync = opts.bus.onResync((lostForMs) => void this.#resync(lostForMs));
  }

  /** Publishes a room event to every node. */
  publish(roomId: number, event: RoomEvent): void {
    this.#bus.publish(roomTopic(roomId), event);
  }

  /** Tells the user's open streams, on every node, to follow a room they joined at `joinedSeq`. */
  publishJoin(userId: number, membership: Membership): void {
    this.#bus.publish<UserEvent>(userTopic(userId), {
      joinedRoomId: membership.roomId,
      joinedSeq: membership.joinedSeq,
    });
  }

  /** Tells the user's open streams, on every node, to stop following a room they left. */
  publishLeave(userId: number, roomId: number): void {
    this.#bus.publish<UserEvent>(userTopic(userId), { leftRoomId: roomId });
  }

  /**
   * The rooms a live stream of the user on this node follows (joins and departures keep
   * them current), or undefined when there is none.
   */
  roomsFollowedBy(userId: number): number[] | undefined {
    for (const follower of this.#users.get(userId) ?? []) {
      if (follower.buffer === undefined && follower.joins === undefined) return [...follower.rooms];
    }
    return undefined;
  }

  /**
   * Opens a chat stream: follows the user and every room of theirs (live once the bus says
   * so), reads where the rooms are (and, resuming, what the stream missed) in one database
   * snapshot, replays that, then goes live; live events that came meanwhile follow, minus
   * those the snapshot had. Rejects (and lets go of everything) when a read fails.
   */
  async open(session: ChatSession, input: { userId: number; from: StreamPosition | undefined }): Promise<void> {
    const follower = new StreamFollower({ session, userId: input.userId, deps: this.#followerDeps });
    this.#bySession.set(session, follower);
    try {
      // The user first, so a room joined from now on is heard of; then the rooms they have.
      await this.#users.add(input.userId, follower);
      const memberships = await this.#loader.membershipsOf(input.userId);
      await Promise.all(memberships.map((m) => this.#addToRoom(follower, m.roomId)));
      const snapshot = await this.#catchUp(follower, {
        roomIds: memberships.map((m) => m.roomId),
        from: input.from,
      });
      if ((follower.buffer?.length ?? 0) > MAX_BUFFERED) {
        fail('SERVICE_UNAVAILABLE', 'chat.stream: too much happened while it opened; open it again');
      }
      this.#goLive(follower, snapshot);
    } catch (error) {
      this.close(session);
      throw error;
    }
    session.onClosed(this.#closeOnClose, session);
  }

  /** Every stream's close callback: a closure made in `open` would keep its scope alive with the stream. */
  readonly #closeOnClose = (session: ChatSession): void => this.close(session);

  /** Mutes or unmutes a room for this one stream. */
  setMuted(session: ChatSession, input: { roomId: number; muted: boolean }): void {
    const follower = this.#bySession.get(session);
    if (follower === undefined) return;
    if (input.muted) follower.muted.add(input.roomId);
    else follower.muted.delete(input.roomId);
  }

  /** Whether `session` is a chat stream open on this node. */
  has(session: ChatSession): boolean {
    return this.#bySession.has(session);
  }

  /** The stream closed: stops following everything. */
  close(session: ChatSession): void {
    const follower = this.#bySession.get(session);
    if (follower === undefined) return;
    this.#bySession.delete(session);
    for (const roomId of follower.rooms) this.#removeFromRoom(follower, roomId);
    this.#users.remove(follower.userId, follower);
  }

  /** Open streams of a user on this node. */
  streamsOf(userId: number): number {
    return this.#users.count(userId);
  }

  /** Rooms with a channel on this node (for leak checks). */
  get channelCount(): number {
    return this.#channels.size;
  }

  /** Stops every timer; streams are closed by their sessions. */
  shutdown(): void {
    this.#stopResync();
    for (const channel of this.#channels.values()) channel.close();
  }

  async #catchUp(
    follower: StreamFollower,
    input: { roomIds: number[]; from: StreamPosition | undefined },
  ): Promise<RoomsSnapshot> {
    const { roomIds, from } = input;
    if (from === undefined) {
      const snapshot = await this.#loader.snapshot(roomIds);
      follower.position = freshPosition(snapshot);
      return snapshot;
    }
    const userId = follower.userId;
    let result = await this.#loader.catchUp({ userId, roomIds, from, limit: this.#maxCatchUp });
    if (result.more) {
      // Too much to replay: the latest ones, and a flag that older ones were skipped. The
      // stream is then where the snapshot is, and every replayed event says so.
      result = await this.#loader.catchUp({ userId, roomIds, from, limit: this.#maxCatchUp, latest: true });
      follower.position = freshPosition(result.snapshot);
      const id = follower.id();
      result.events.forEach((e, i) => {
        const event = { ...e.event, isCatchup: true, ...(i === 0 ? { gapBefore: true } : {}) };
        follower.session.send(new OutgoingEvent(event), id);
      });
      return result.snapshot;
    }
    const mine = new Set(roomIds);
    follower.position = {
      base: from.base,
      rooms: new Map([...from.rooms].filter(([roomId]) => mine.has(roomId))),
      id: undefined,
    };
    for (const e of result.events) {
      follower.moveTo(e.event.conversationId, e.seq!);
      follower.session.send(new OutgoingEvent({ ...e.event, isCatchup: true } as ChatStreamMessage), follower.id());
    }
    return result.snapshot;
  }

  /** Caught up to `snapshot`: lines each room up with its channel, then lets through what waited. */
  #goLive(follower: StreamFollower, snapshot: RoomsSnapshot): void {
    const lastSeq = (roomId: number) => snapshot.rooms.get(roomId)?.lastSeq ?? 0;
    for (const roomId of follower.rooms) this.#lineUp(follower, roomId, lastSeq(roomId));
    const buffered = follower.buffer ?? [];
    follower.buffer = undefined;
    // Rooms left while the stream opened (and not joined again): none of their waiting events
    // goes out, whenever it was sent relative to the leave.
    const gone = new Set<number>();
    for (const change of follower.joins ?? []) {
      if (change.left === true) gone.add(change.roomId);
      else gone.delete(change.roomId);
    }
    for (const [roomId, event] of buffered) {
      // The snapshot had it: replayed already, or from before a fresh stream began.
      if (event.seq !== undefined && event.seq <= lastSeq(roomId)) continue;
      if (gone.has(roomId)) continue;
      follower.offer(roomId, event);
    }
    const joins = follower.joins ?? [];
    follower.joins = undefined;
    for (const change of joins) {
      if (change.left === true) this.#left(follower, change.roomId);
      else this.#joined(follower, change);
    }
  }

  /** The user left `roomId`: the stream stops following it at once. */
  #left(follower: StreamFollower, roomId: number): void {
    if (follower.joins !== undefined) {
      follower.joins.push({ roomId, joinedSeq: 0, left: true });
      return;
    }
    if (!follower.rooms.has(roomId)) return;
    this.#removeFromRoom(follower, roomId);
    follower.forget(roomId);
  }

  /**
   * The stream has `roomId` up to `hasSeq`. A channel that has not started starts there; one
   * behind it has the stream skip what it has; one ahead of it (it started at a newer
   * snapshot, and what came before went to nobody) has the stream read the difference.
   */
  #lineUp(follower: StreamFollower, roomId: number, hasSeq: number): void {
    const channel = this.#channels.get(roomId);
    if (channel === undefined) return;
    channel.start(hasSeq);
    const next = channel.next!;
    if (next <= hasSeq) follower.skip.set(roomId, hasSeq);
    else if (next - 1 > hasSeq) this.#readRoom(follower, roomId, { afterSeq: hasSeq, uptoSeq: next - 1 });
  }

  /** A room the user joined at `joinedSeq`: the stream follows it from there. */
  #joined(follower: StreamFollower, membership: Membership): void {
    if (follower.joins !== undefined) {
      follower.joins.push(membership);
      return;
    }
    const { roomId, joinedSeq } = membership;
    if (follower.rooms.has(roomId) || !this.#bySession.has(follower.session)) return;
    follower.reading.set(roomId, []);
    void (async () => {
      try {
        await this.#addToRoom(follower, roomId);
        const snapshot = await this.#loader.snapshot([roomId]);
        // Left again meanwhile.
        if (!follower.rooms.has(roomId)) return;
        const lastSeq = snapshot.rooms.get(roomId)?.lastSeq ?? 0;
        follower.moveTo(roomId, joinedSeq);
        const channel = this.#channels.get(roomId)!;
        channel.start(lastSeq);
        const uptoSeq = Math.max(lastSeq, channel.next! - 1);
        if (channel.next! - 1 < uptoSeq) follower.skip.set(roomId, uptoSeq);
        await this.#readRange(follower, roomId, { afterSeq: joinedSeq, uptoSeq });
      } catch (error) {
        this.#log.error({ err: error, roomId }, 'chat: following a joined room failed; the stream starts over');
        void follower.session.close();
      }
    })();
  }

  /** Reads `roomId` from the database for this stream alone, holding its live events meanwhile. */
  #readRoom(follower: StreamFollower, roomId: number, range: { afterSeq: number; uptoSeq: number }): void {
    follower.reading.set(roomId, follower.reading.get(roomId) ?? []);
    this.#readRange(follower, roomId, range).catch((error: unknown) => {
      this.#log.error({ err: error, roomId }, 'chat: catching a stream up failed; the stream starts over');
      void follower.session.close();
    });
  }

  async #readRange(
    follower: StreamFollower,
    roomId: number,
    range: { afterSeq: number; uptoSeq: number },
  ): Promise<void> {
    let afterSeq = range.afterSeq;
    while (afterSeq < range.uptoSeq) {
      const page = await this.#loader.range({ roomId, afterSeq, uptoSeq: range.uptoSeq, limit: FILL_PAGE });
      if (!follower.rooms.has(roomId)) return;
      // Its own reads: what the channel is told to skip does not apply to them.
      for (const event of page) follower.emit(roomId, event);
      if (page.length < FILL_PAGE) break;
      afterSeq = page.at(-1)!.seq!;
    }
    const waiting = follower.reading.get(roomId) ?? [];
    follower.reading.delete(roomId);
    for (const event of waiting) if (event.seq === undefined || event.seq > range.uptoSeq) follower.send(roomId, event);
  }

  async #addToRoom(follower: StreamFollower, roomId: number): Promise<void> {
    if (follower.rooms.has(roomId)) return;
    follower.rooms.add(roomId);
    if (!this.#channels.has(roomId)) {
      this.#channels.set(
        roomId,
        new RoomChannel(roomId, {
          log: this.#log,
          range: (input) => this.#loader.range(input),
          typingTimedOut: (room, user) => this.#loader.typingTimedOut(room, user),
          deliver: (room, event) => this.#fanout(room, event),
        }),
      );
    }
    await this.#rooms.add(roomId, follower);
  }

  #removeFromRoom(follower: StreamFollower, roomId: number): void {
    follower.rooms.delete(roomId);
    this.#rooms.remove(roomId, follower);
    if (this.#rooms.get(roomId) !== undefined) return;
    this.#channels.get(roomId)?.close();
    this.#channels.delete(roomId);
  }

  /** After the bus was away: every channel reads what it missed, every stream the rooms it missed joining. */
  async #resync(lostForMs: number): Promise<void> {
    try {
      const roomIds = [...this.#channels.keys()];
      for (let i = 0; i < roomIds.length; i += 1_000) {
        const chunk = roomIds.slice(i, i + 1_000);
        // One query for many rooms: only those that moved need reading.
        const snapshot = await this.#loader.snapshot(chunk);
        for (const roomId of chunk) {
          const channel = this.#channels.get(roomId);
          const lastSeq = snapshot.rooms.get(roomId)?.lastSeq;
          if (
            channel !== undefined &&
            (channel.next === undefined || lastSeq === undefined || lastSeq >= channel.next)
          ) {
            channel.resync();
          }
        }
      }
      const userIds = [...this.#users.keys()];
      for (let i = 0; i < userIds.length; i += 1_000) {
        const joins = await this.#loader.recentMemberships({
          userIds: userIds.slice(i, i + 1_000),
          // The database's clock may differ from ours: a minute more than the outage.
          withinMs: lostForMs + 60_000,
        });
        for (const join of joins)
          for (const follower of this.#users.get(join.userId) ?? []) this.#joined(follower, join);
      }
      await this.#resyncDepartures();
    } catch (error) {
      this.#log.warn({ err: error }, 'chat: catching up after a bus outage failed; channels read on their next gap');
      for (const channel of this.#channels.values()) channel.resync();
    }
  }

  /** Streams stop following rooms their users left while the bus was away (their news was lost). */
  async #resyncDepartures(): Promise<void> {
    const followed: { userId: number; roomId: number }[] = [];
    for (const userId of this.#users.keys()) {
      const rooms = new Set([...(this.#users.get(userId) ?? [])].flatMap((follower) => [...follower.rooms]));
      for (const roomId of rooms) followed.push({ userId, roomId });
    }
    for (let i = 0; i < followed.length; i += 1_000) {
      const chunk = followed.slice(i, i + 1_000);
      const still = new Set((await this.#loader.stillMembers(chunk)).map((p) => `${p.userId}:${p.roomId}`));
      for (const { userId, roomId } of chunk) {
        if (still.has(`${userId}:${roomId}`)) continue;
        for (const follower of this.#users.get(userId) ?? []) this.#left(follower, roomId);
      }
    }
  }

  #fanout(roomId: number, event: RoomEvent): void {
    const followers = this.#rooms.get(roomId);
    if (followers === undefined) return;
    const delivery = deliveryOf(event);
    for (const follower of followers) {
      if (follower.buffer !== undefined) follower.buffer.push([roomId, event]);
      else follower.offer(roomId, event, delivery);
    }
  }
}
