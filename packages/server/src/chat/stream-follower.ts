import { OutgoingEvent, type AppContext, type StreamSession, type Logger } from '@streampod/framework';
import type { ChatStreamMessage } from '@streampod/protocol';
import type { RoomsSnapshot } from './message-repository.js';
import type { RoomEvent } from './room-channel.js';
import { encodePosition, MAX_LISTED_ROOMS } from './stream-position.js';

export type ChatSession = StreamSession<AppContext, ChatStreamMessage, unknown>;

/** A room of a user and where they joined it. */
export interface Membership {
  readonly roomId: number;
  readonly joinedSeq: number;
}

/** A mutable stream position (see `stream-position.ts`), with its id cached until it moves. */
export interface Position {
  base: number;
  readonly rooms: Map<number, number>;
  id: string | undefined;
}

/** What a follower needs from the hub: a fresh snapshot to fold its position with. */
export interface FollowerDeps {
  readonly log: Logger;
  /** Rooms as one snapshot sees them, with each room's seq as of message id `base`. */
  snapshot(
    roomIds: readonly number[],
    base: number,
  ): Promise<RoomsSnapshot & { seqAtBase?: ReadonlyMap<number, number> }>;
  /** A position listing more rooms than this is folded into a newer base. */
  readonly maxListed: number;
}

/**
 * One open `chat.stream` on this node: which rooms it follows, where it is (its position,
 * handed out as the tracked id of every event), and what waits while it catches up.
 */
export class StreamFollower {
  readonly session: ChatSession;
  readonly userId: number;
  readonly rooms = new Set<number>();
  readonly muted = new Set<number>();
  position: Position = { base: 0, rooms: new Map(), id: undefined };
  /** Until the stream has caught up, live events wait here, in order. */
  buffer: [number, RoomEvent][] | undefined = [];
  /** Rooms joined while catching up, followed once it is done. */
  joins: Membership[] | undefined = [];
  /** Rooms the stream is reading from the database on its own; their live events wait. */
  readonly reading = new Map<number, RoomEvent[]>();
  /** room → seq: the stream is ahead of this node's channel up to there (it read them itself). */
  readonly skip = new Map<number, number>();
  readonly #deps: FollowerDeps;
  #compacting = false;
  #compactAbove: number;

  constructor(opts: { session: ChatSession; userId: number; deps: FollowerDeps }) {
    this.session = opts.session;
    this.userId = opts.userId;
    this.#deps = opts.deps;
    this.#compactAbove = opts.deps.maxListed;
  }

  /** The tracked id of where the stream is now. */
  id(): string {
    return (this.position.id ??= encodePosition(this.position));
  }

  /** Sends a channel event, unless the stream is reading the room on its own (then the event waits). */
  offer(roomId: number, event: RoomEvent): void {
    const waiting = this.reading.get(roomId);
    if (waiting !== undefined) waiting.push(event);
    else this.send(roomId, event);
  }

  /** Sends a channel event, unless the stream already has it. */
  send(roomId: number, event: RoomEvent): void {
    if (event.seq !== undefined) {
      const skip = this.skip.get(roomId);
      if (skip !== undefined) {
        if (event.seq <= skip) return;
        this.skip.delete(roomId);
      }
    }
    this.emit(roomId, event);
  }

  /** Moves the position past a message, and sends the event with it. */
  emit(roomId: number, event: RoomEvent): void {
    if (event.seq !== undefined) {
      // A muted room's messages move the position too: the stream chose not to hear them.
      this.position.rooms.set(roomId, event.seq);
      this.position.id = undefined;
      if (this.position.rooms.size > this.#compactAbove) this.#compact();
    }
    if (this.muted.has(roomId) || event.exceptUserId === this.userId) return;
    this.session.send(outgoingOf(event), this.id());
  }

  /**
   * Folds the listed rooms into a newer base: a room is left out when the stream has all of
   * it and no insert into it is in flight, which a fresh snapshot tells.
   */
  #compact(): void {
    if (this.position.rooms.size >= MAX_LISTED_ROOMS) {
      // Its id could no longer be read back: let the client resume from the last one it has.
      this.#deps.log.warn(
        { rooms: this.position.rooms.size },
        'chat: a stream position grew too long; closing the stream',
      );
      void this.session.close();
      return;
    }
    // A room being read on its own is not settled yet: fold later.
    if (this.#compacting || this.reading.size > 0) return;
    this.#compacting = true;
    const oldBase = this.position.base;
    this.#deps.snapshot([...this.rooms], oldBase).then(
      (snapshot) => {
        this.#compacting = false;
        if (this.position.base !== oldBase) return;
        const listed = new Map<number, number>();
        for (const roomId of this.rooms) {
          const room = snapshot.rooms.get(roomId);
          const at = this.position.rooms.get(roomId) ?? snapshot.seqAtBase?.get(roomId);
          // A room the snapshot did not check (joined meanwhile) stays listed.
          if (room === undefined) {
            if (at !== undefined) listed.set(roomId, at);
            continue;
          }
          if (room.busy || at !== room.lastSeq) listed.set(roomId, at ?? 0);
        }
        this.position = { base: snapshot.maxId, rooms: listed, id: undefined };
        this.#compactAbove = listed.size + this.#deps.maxListed;
      },
      (error: unknown) => {
        this.#compacting = false;
        this.#compactAbove = this.position.rooms.size + this.#deps.maxListed;
        this.#deps.log.warn({ err: error }, 'chat: folding a stream position failed');
      },
    );
  }
}

/** The position of a stream that starts at `snapshot`: its base, and the rooms with an insert in flight. */
export function freshPosition(snapshot: RoomsSnapshot): Position {
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
