import type { ChatStreamMessage } from '@streampod/protocol';
import type { Logger } from 'pino';
import { OutgoingEvent } from '../core/outgoing-event.js';
import type { StreamingSession } from '../core/session.js';
import type { FanoutBus } from '../fanout/fanout-bus.js';
import { TopicIndex } from '../fanout/topic-index.js';
import type { RoomsSnapshot } from './message-repository.js';
import { encodePosition, type StreamPosition } from './stream-position.js';
import type { TypingExpiry } from './typing-store.js';

/** What travels on a room's bus topic. */
export interface RoomEvent {
  readonly event: ChatStreamMessage;
  /** On `message` events: the message's place in its room. */
  readonly seq?: number;
  /** Not delivered to this user's streams (their own typing, their own presence). */
  readonly exceptUserId?: number;
  /** On `typing` events: the store's version of this start or end, and how long a start lasts. */
  readonly typing?: { readonly version: number; readonly ttlMs: number };
  /** On `presence` events: the presence store's version of the change (nodes may publish out of order). */
  readonly presenceVersion?: number;
}

/** What travels on a user's bus topic: rooms they joined, for their open streams to follow. */
export interface UserEvent {
  readonly joinedRoomId: number;
}

export type ChatSession = StreamingSession<ChatStreamMessage, unknown>;

/** Where the hub reads what the bus cannot give it: the database and the typing store. */
export interface ChatHubLoader {
  roomIdsOf(userId: number): Promise<number[]>;
  /** Rooms as one snapshot sees them; with `base`, each room's seq at that message id too. */
  snapshot(roomIds: readonly number[], base?: number): Promise<SnapshotWithBase>;
  /** What a stream resuming at `from` missed (see `MessageRepository.catchUp`), as room events. */
  catchUp(input: {
    roomIds: readonly number[];
    from: StreamPosition;
    limit: number;
    latest?: boolean;
  }): Promise<{ snapshot: RoomsSnapshot; events: RoomEvent[]; more: boolean }>;
  /** A room's stored messages after `afterSeq` (up to `uptoSeq`), as room events, in order. */
  range(input: { roomId: number; afterSeq: number; uptoSeq?: number; limit: number }): Promise<RoomEvent[]>;
  /** A typing start that should have run out by now. */
  typingTimedOut(roomId: number, userId: number): Promise<TypingExpiry>;
}

export type SnapshotWithBase = RoomsSnapshot & {
  readonly seqAtBase?: ReadonlyMap<number, number>;
};

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

/** A mutable stream position, with its id cached until it moves. */
interface Position {
  base: number;
  readonly rooms: Map<number, number>;
  id: string | undefined;
}

/** One open `chat.stream` on this node. */
interface Follower {
  readonly session: ChatSession;
  readonly userId: number;
  readonly rooms: Set<number>;
  readonly muted: Set<number>;
  position: Position;
  /** Until the stream has caught up, live events wait here, in order. */
  buffer: [number, RoomEvent][] | undefined;
  /** Rooms joined while catching up, followed once it is done. */
  joins: number[] | undefined;
  /** Rooms joined live whose snapshot is being read; their events wait. */
  readonly joining: Map<number, RoomEvent[]>;
  /** room → seq: the stream is ahead of this node's room channel up to there (it read them itself). */
  readonly skip: Map<number, number>;
  compacting: boolean;
  compactAbove: number;
}

/** A started or ended typing of one user in one room, as this node last heard. */
interface Typer {
  version: number;
  typing: boolean;
  start: RoomEvent | undefined;
  timer: NodeJS.Timeout | undefined;
}

/** One room followed on this node: its order, and who types there. */
interface RoomChannel {
  readonly roomId: number;
  /** The next seq to deliver (undefined until a stream's snapshot says where the room is). */
  next: number | undefined;
  /** Events waiting, in arrival order, while the channel is not initialized or fills a gap. */
  readonly queue: RoomEvent[];
  blocked: boolean;
  resyncWanted: boolean;
  readonly typers: Map<number, Typer>;
  /** The newest presence version heard per member whose status changed. */
  readonly presence: Map<number, number>;
}

const roomTopic = (roomId: number) => `room:${roomId}`;
const userTopic = (userId: number) => `user:${userId}`;
const PAGE = 500;

/**
 * Chat fan-out on this node. Every room event goes through the bus once and is serialized
 * once, whatever number of streams here follow the room. Each room followed here has one
 * channel that keeps the room's order: a message that skips ahead makes it read the missing
 * range from the database first; one it has passed already is a duplicate. Each stream
 * follows all its user's rooms (including rooms joined while it is open) and carries its
 * position (see `stream-position.ts`) as its tracked event id.
 */
export class ChatHub {
  readonly #bus: FanoutBus;
  readonly #log: Logger;
  readonly #loader: ChatHubLoader;
  readonly #maxCatchUp: number;
  readonly #maxListed: number;
  readonly #rooms: TopicIndex<number, Follower, RoomEvent>;
  readonly #users: TopicIndex<number, Follower, UserEvent>;
  readonly #channels = new Map<number, RoomChannel>();
  readonly #bySession = new Map<ChatSession, Follower>();
  readonly #stopResync: () => void;
  #closed = false;

  constructor(opts: ChatHubOptions) {
    this.#bus = opts.bus;
    this.#log = opts.log;
    this.#loader = opts.loader;
    this.#maxCatchUp = opts.maxCatchUp ?? 1_000;
    this.#maxListed = opts.maxListedRooms ?? 32;
    this.#rooms = new TopicIndex({ bus: opts.bus, topic: roomTopic, deliver: (id, e) => this.#received(id, e) });
    this.#users = new TopicIndex({
      bus: opts.bus,
      topic: userTopic,
      deliver: (_id, e, followers) => {
        for (const follower of followers) this.#joined(follower, e.joinedRoomId);
      },
    });
    // Whatever was published while the bus was away is in the database: read it.
    this.#stopResync = opts.bus.onResync(() => {
      for (const channel of this.#channels.values()) this.#resync(channel);
    });
  }

  /** Publishes a room event to every node. */
  publish(roomId: number, event: RoomEvent): void {
    this.#bus.publish(roomTopic(roomId), event);
  }

  /** Tells the user's open streams, on every node, to follow a room they joined. */
  publishJoin(userId: number, roomId: number): void {
    this.#bus.publish<UserEvent>(userTopic(userId), { joinedRoomId: roomId });
  }

  /**
   * Opens a chat stream: follows the user and every room of theirs (live once the bus says
   * so), reads where the rooms are (and, resuming, what the stream missed) in one database
   * snapshot, replays that, then goes live; live events that came meanwhile follow, minus
   * those the snapshot had. Rejects (and lets go of everything) when a read fails.
   */
  async open(session: ChatSession, input: { userId: number; from: StreamPosition | undefined }): Promise<void> {
    const follower: Follower = {
      session,
      userId: input.userId,
      rooms: new Set(),
      muted: new Set(),
      position: { base: 0, rooms: new Map(), id: undefined },
      buffer: [],
      joins: [],
      joining: new Map(),
      skip: new Map(),
      compacting: false,
      compactAbove: this.#maxListed,
    };
    this.#bySession.set(session, follower);
    try {
      // The user first, so a room joined from now on is heard of; then the rooms they have.
      await this.#users.add(input.userId, follower);
      const roomIds = await this.#loader.roomIdsOf(input.userId);
      await Promise.all(roomIds.map((roomId) => this.#addToRoom(follower, roomId)));
      const snapshot = await this.#catchUp(follower, { roomIds, from: input.from });
      this.#goLive(follower, snapshot);
    } catch (error) {
      this.close(session);
      throw error;
    }
    session.onClosed(() => this.close(session));
  }

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
    return this.#users.get(userId)?.size ?? 0;
  }

  /** Rooms with a channel on this node (for leak checks). */
  get channelCount(): number {
    return this.#channels.size;
  }

  /** Stops every timer; streams are closed by their sessions. */
  shutdown(): void {
    this.#closed = true;
    this.#stopResync();
    for (const channel of this.#channels.values()) {
      for (const typer of channel.typers.values()) clearTimeout(typer.timer);
    }
  }

  async #catchUp(
    follower: Follower,
    input: { roomIds: number[]; from: StreamPosition | undefined },
  ): Promise<RoomsSnapshot> {
    const { roomIds, from } = input;
    if (from === undefined) {
      const snapshot = await this.#loader.snapshot(roomIds);
      follower.position = freshPosition(snapshot);
      return snapshot;
    }
    let result = await this.#loader.catchUp({ roomIds, from, limit: this.#maxCatchUp });
    if (result.more) {
      // Too much to replay: the latest ones, and a flag that older ones were skipped. The
      // stream is then where the snapshot is, and every replayed event says so.
      result = await this.#loader.catchUp({ roomIds, from, limit: this.#maxCatchUp, latest: true });
      follower.position = freshPosition(result.snapshot);
      const id = this.#idOf(follower);
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
      follower.position.rooms.set(e.event.conversationId, e.seq!);
      follower.position.id = undefined;
      follower.session.send(
        new OutgoingEvent({ ...e.event, isCatchup: true } as ChatStreamMessage),
        this.#idOf(follower),
      );
    }
    return result.snapshot;
  }

  /** Caught up to `snapshot`: starts the channels there, then lets through what waited. */
  #goLive(follower: Follower, snapshot: RoomsSnapshot): void {
    const lastSeq = (roomId: number) => snapshot.rooms.get(roomId)?.lastSeq ?? 0;
    for (const roomId of follower.rooms) this.#alignRoom(follower, roomId, lastSeq(roomId));
    const buffered = follower.buffer ?? [];
    follower.buffer = undefined;
    for (const [roomId, event] of buffered) {
      // The snapshot had it: replayed already, or from before a fresh stream began.
      if (event.seq !== undefined && event.seq <= lastSeq(roomId)) continue;
      this.#send(follower, roomId, event);
    }
    const joins = follower.joins ?? [];
    follower.joins = undefined;
    for (const roomId of joins) this.#joined(follower, roomId);
  }

  /** The stream has read `roomId` up to `lastSeq` itself: the channel starts there if new, and the stream skips what it has. */
  #alignRoom(follower: Follower, roomId: number, lastSeq: number): void {
    const channel = this.#channels.get(roomId);
    if (channel === undefined) return;
    if (channel.next === undefined) {
      channel.next = lastSeq + 1;
      channel.blocked = false;
      this.#drain(channel);
    }
    if (channel.next <= lastSeq) follower.skip.set(roomId, lastSeq);
  }

  #joined(follower: Follower, roomId: number): void {
    if (follower.joins !== undefined) {
      follower.joins.push(roomId);
      return;
    }
    if (follower.rooms.has(roomId) || !this.#bySession.has(follower.session)) return;
    follower.joining.set(roomId, []);
    void (async () => {
      try {
        await this.#addToRoom(follower, roomId);
        const snapshot = await this.#loader.snapshot([roomId]);
        const lastSeq = snapshot.rooms.get(roomId)?.lastSeq ?? 0;
        this.#alignRoom(follower, roomId, lastSeq);
        // A room met mid-stream starts where it is now.
        follower.position.rooms.set(roomId, lastSeq);
        follower.position.id = undefined;
      } catch (error) {
        this.#log.error({ err: error, roomId }, 'chat: following a joined room failed');
        this.#removeFromRoom(follower, roomId);
      } finally {
        const waiting = follower.joining.get(roomId) ?? [];
        follower.joining.delete(roomId);
        const had = follower.position.rooms.get(roomId) ?? 0;
        if (follower.rooms.has(roomId)) {
          for (const event of waiting)
            if (event.seq === undefined || event.seq > had) this.#send(follower, roomId, event);
        }
      }
    })();
  }

  async #addToRoom(follower: Follower, roomId: number): Promise<void> {
    if (follower.rooms.has(roomId)) return;
    follower.rooms.add(roomId);
    if (!this.#channels.has(roomId)) {
      this.#channels.set(roomId, {
        roomId,
        next: undefined,
        queue: [],
        blocked: true,
        resyncWanted: false,
        typers: new Map(),
        presence: new Map(),
      });
    }
    await this.#rooms.add(roomId, follower);
  }

  #removeFromRoom(follower: Follower, roomId: number): void {
    follower.rooms.delete(roomId);
    this.#rooms.remove(roomId, follower);
    if (this.#rooms.get(roomId) !== undefined) return;
    const channel = this.#channels.get(roomId);
    if (channel === undefined) return;
    for (const typer of channel.typers.values()) clearTimeout(typer.timer);
    this.#channels.delete(roomId);
  }

  /** A room event from the bus. */
  #received(roomId: number, event: RoomEvent): void {
    const channel = this.#channels.get(roomId);
    if (channel === undefined) return;
    if (event.typing !== undefined) {
      // Typing has its own order (versions) and clock: it does not wait behind messages.
      if (this.#typingChanged(channel, event)) this.#fanout(channel, event);
      return;
    }
    if (event.presenceVersion !== undefined) {
      const userId = event.event.senderId;
      if (event.presenceVersion <= (channel.presence.get(userId) ?? -1)) return;
      channel.presence.set(userId, event.presenceVersion);
    }
    channel.queue.push(event);
    if (!channel.blocked) this.#drain(channel);
  }

  /** Delivers waiting events in order until one skips ahead; then reads the gap from the database. */
  #drain(channel: RoomChannel): void {
    while (channel.queue.length > 0 && !channel.blocked) {
      const event = channel.queue[0]!;
      if (event.seq === undefined) {
        channel.queue.shift();
        this.#fanout(channel, event);
        continue;
      }
      const next = channel.next!;
      if (event.seq < next) {
        channel.queue.shift();
        continue;
      }
      if (event.seq > next) {
        this.#fill(channel, event.seq - 1);
        return;
      }
      channel.queue.shift();
      channel.next = next + 1;
      this.#fanout(channel, event);
    }
    if (!channel.blocked && channel.resyncWanted) this.#resync(channel);
  }

  /** Reads the room from the database up to `uptoSeq` (everything, when absent), delivers it, then drains. */
  #fill(channel: RoomChannel, uptoSeq: number | undefined, attempt = 0): void {
    channel.blocked = true;
    void (async () => {
      try {
        for (;;) {
          const afterSeq = channel.next! - 1;
          if (uptoSeq !== undefined && afterSeq >= uptoSeq) break;
          const page = await this.#loader.range({ roomId: channel.roomId, afterSeq, uptoSeq, limit: PAGE });
          if (this.#channels.get(channel.roomId) !== channel) return;
          for (const event of page) {
            if (event.seq! < channel.next!) continue;
            channel.next = event.seq! + 1;
            this.#fanout(channel, event);
          }
          if (page.length < PAGE) break;
        }
        // A seq the database does not have was never used (two racing retries of one message).
        if (uptoSeq !== undefined) channel.next = Math.max(channel.next!, uptoSeq + 1);
        channel.blocked = false;
        this.#drain(channel);
      } catch (error) {
        if (this.#closed || this.#channels.get(channel.roomId) !== channel) return;
        this.#log.warn({ err: error, roomId: channel.roomId }, 'chat: reading missed messages failed; retrying');
        setTimeout(() => this.#fill(channel, uptoSeq, attempt + 1), Math.min(100 * 2 ** attempt, 5_000)).unref();
      }
    })();
  }

  #resync(channel: RoomChannel): void {
    if (channel.next === undefined) return;
    if (channel.blocked) {
      channel.resyncWanted = true;
      return;
    }
    channel.resyncWanted = false;
    this.#fill(channel, undefined);
  }

  /** Applies a typing event to what this node knows; true when the room must hear it (a start or an end). */
  #typingChanged(channel: RoomChannel, event: RoomEvent): boolean {
    const e = event.event;
    if (e.type !== 'typing' || event.typing === undefined) return false;
    const userId = e.senderId;
    let typer = channel.typers.get(userId);
    if (typer !== undefined && event.typing.version <= typer.version) return false;
    if (typer === undefined) {
      typer = { version: 0, typing: false, start: undefined, timer: undefined };
      channel.typers.set(userId, typer);
    }
    const was = typer.typing;
    typer.version = event.typing.version;
    typer.typing = e.isTyping;
    typer.start = e.isTyping ? event : undefined;
    clearTimeout(typer.timer);
    const current = typer;
    if (e.isTyping) {
      // Every node that has streams in the room watches the clock: whichever one's typing
      // store call ends it tells everyone, and one whose store lost it tells its own streams.
      current.timer = setTimeout(() => this.#typingDue(channel, userId, current), event.typing.ttlMs);
    } else {
      // Kept a while, so a start older than this end that arrives late is dropped.
      current.timer = setTimeout(() => {
        if (channel.typers.get(userId) === current && !current.typing) channel.typers.delete(userId);
      }, event.typing.ttlMs * 2);
    }
    current.timer.unref();
    return was !== e.isTyping;
  }

  #typingDue(channel: RoomChannel, userId: number, typer: Typer): void {
    this.#loader.typingTimedOut(channel.roomId, userId).then(
      (expiry) => {
        if (channel.typers.get(userId) !== typer || !typer.typing) return;
        if (expiry.state === 'typing') {
          typer.timer = setTimeout(() => this.#typingDue(channel, userId, typer), expiry.remainingMs);
          typer.timer.unref();
        } else if (expiry.state === 'gone') {
          this.#endTypingHere(channel, typer);
        }
        // 'expired': this node ended it and published the end, which comes back by the bus.
      },
      (error: unknown) => {
        this.#log.warn({ err: error, roomId: channel.roomId }, 'chat: typing store unreachable; ending typing here');
        if (channel.typers.get(userId) === typer && typer.typing) this.#endTypingHere(channel, typer);
      },
    );
  }

  /** Ends a typing for this node's streams only (the store no longer has it, or cannot be asked). */
  #endTypingHere(channel: RoomChannel, typer: Typer): void {
    const start = typer.start;
    typer.typing = false;
    typer.start = undefined;
    if (start === undefined || start.event.type !== 'typing') return;
    this.#fanout(channel, { ...start, event: { ...start.event, isTyping: false, timestamp: new Date() } });
  }

  #fanout(channel: RoomChannel, event: RoomEvent): void {
    const followers = this.#rooms.get(channel.roomId);
    if (followers === undefined) return;
    for (const follower of followers) {
      if (follower.buffer !== undefined) follower.buffer.push([channel.roomId, event]);
      else {
        const waiting = follower.joining.get(channel.roomId);
        if (waiting !== undefined) waiting.push(event);
        else this.#send(follower, channel.roomId, event);
      }
    }
  }

  #send(follower: Follower, roomId: number, event: RoomEvent): void {
    if (event.seq !== undefined) {
      const skip = follower.skip.get(roomId);
      if (skip !== undefined) {
        if (event.seq <= skip) return;
        follower.skip.delete(roomId);
      }
      // A muted room's messages move the position too: the stream chose not to hear them.
      follower.position.rooms.set(roomId, event.seq);
      follower.position.id = undefined;
      if (follower.position.rooms.size > follower.compactAbove) this.#compact(follower);
    }
    if (follower.muted.has(roomId) || event.exceptUserId === follower.userId) return;
    follower.session.send(outgoingOf(event), this.#idOf(follower));
  }

  #idOf(follower: Follower): string {
    return (follower.position.id ??= encodePosition(follower.position));
  }

  /**
   * Folds the listed rooms into a newer base: a room is left out when the stream has all of
   * it and no insert into it is in flight, which a fresh snapshot tells.
   */
  #compact(follower: Follower): void {
    if (follower.compacting) return;
    follower.compacting = true;
    const oldBase = follower.position.base;
    this.#loader.snapshot([...follower.rooms], oldBase).then(
      (snapshot) => {
        follower.compacting = false;
        if (follower.position.base !== oldBase) return;
        const rooms = new Map<number, number>();
        for (const roomId of follower.rooms) {
          const room = snapshot.rooms.get(roomId);
          if (room === undefined) continue;
          const at = follower.position.rooms.get(roomId) ?? snapshot.seqAtBase?.get(roomId) ?? 0;
          if (room.busy || at !== room.lastSeq) rooms.set(roomId, at);
        }
        follower.position = { base: snapshot.maxId, rooms, id: undefined };
        follower.compactAbove = rooms.size + this.#maxListed;
      },
      (error: unknown) => {
        follower.compacting = false;
        follower.compactAbove = follower.position.rooms.size + this.#maxListed;
        this.#log.warn({ err: error }, 'chat: folding a stream position failed');
      },
    );
  }
}

/** The position of a stream that starts at `snapshot`: its base, and the rooms with an insert in flight. */
function freshPosition(snapshot: RoomsSnapshot): Position {
  const rooms = new Map<number, number>();
  for (const [roomId, room] of snapshot.rooms) if (room.busy) rooms.set(roomId, room.lastSeq);
  return { base: snapshot.maxId, rooms, id: undefined };
}

const outgoingCache = new WeakMap<RoomEvent, OutgoingEvent<ChatStreamMessage>>();

/** The shared outgoing form of a room event: serialized once for every stream. */
function outgoingOf(event: RoomEvent): OutgoingEvent<ChatStreamMessage> {
  let outgoing = outgoingCache.get(event);
  if (outgoing === undefined) {
    outgoing = new OutgoingEvent(event.event);
    outgoingCache.set(event, outgoing);
  }
  return outgoing;
}
