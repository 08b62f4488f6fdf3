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

/**
 * A stream position (see `stream-position.ts`) with its id, encoded once when first asked
 * for. Never changed once made: streams in the same place share one, so an event that
 * moves them all computes the next position (and its id) once, and they send the same bytes.
 */
export interface Position {
  readonly base: number;
  readonly rooms: ReadonlyMap<number, number>;
  id: string | undefined;
}

/** The rooms of a position that lists none: one for all (positions are never changed). */
const NO_ROOMS: ReadonlyMap<number, number> = new Map();

/** `position` with `roomId` up to `seq`. */
function advance(position: Position, roomId: number, seq: number): Position {
  return { base: position.base, rooms: new Map(position.rooms).set(roomId, seq), id: undefined };
}

/**
 * What every stream on this node that receives one room event shares: its outgoing form
 * (serialized once), and the positions it moves streams to, by the id they move from.
 */
export class Delivery {
  readonly outgoing: OutgoingEvent<ChatStreamMessage>;
  readonly advanced = new Map<string, Position>();
  /** Positions with their base dropped (see `StreamFollower.emit`), by the one they replace. */
  readonly canonical = new Map<Position, Position>();
  constructor(event: RoomEvent) {
    this.outgoing = new OutgoingEvent(event.event);
  }
}

const deliveries = new WeakMap<RoomEvent, Delivery>();

/** The one `Delivery` of a room event, however many streams (and paths) it goes through. */
export function deliveryOf(event: RoomEvent): Delivery {
  let delivery = deliveries.get(event);
  if (delivery === undefined) deliveries.set(event, (delivery = new Delivery(event)));
  return delivery;
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
  position: Position = { base: 0, rooms: NO_ROOMS, id: undefined };
  /** Until the stream has caught up, live events wait here, in order. */
  buffer: [number, RoomEvent][] | undefined = [];
  /** Rooms joined (or left) while catching up, followed (or dropped) once it is done. */
  joins: (Membership & { left?: true })[] | undefined = [];
  // The collections below are made when first needed: most streams never mute a room and
  // are rarely reading one on their own, and an empty Map or Set still costs its table.
  #muted: Set<number> | undefined;
  #reading: Map<number, RoomEvent[]> | undefined;
  #skip: Map<number, number> | undefined;
  readonly #deps: FollowerDeps;
  #compacting = false;
  #compactAbove: number;

  constructor(opts: { session: ChatSession; userId: number; deps: FollowerDeps }) {
    this.session = opts.session;
    this.userId = opts.userId;
    this.#deps = opts.deps;
    this.#compactAbove = opts.deps.maxListed;
  }

  /** Rooms this stream does not deliver (it still moves past their messages). */
  get muted(): Set<number> {
    return (this.#muted ??= new Set());
  }

  /** Rooms the stream is reading from the database on its own; their live events wait. */
  get reading(): Map<number, RoomEvent[]> {
    return (this.#reading ??= new Map());
  }

  /** room → seq: the stream is ahead of this node's channel up to there (it read them itself). */
  get skip(): Map<number, number> {
    return (this.#skip ??= new Map());
  }

  /** Drops what the stream kept for a room it no longer follows. */
  forget(roomId: number): void {
    this.#muted?.delete(roomId);
    this.#reading?.delete(roomId);
    this.#skip?.delete(roomId);
  }

  /** The tracked id of where the stream is now. */
  id(): string {
    return (this.position.id ??= encodePosition(this.position));
  }

  /** Sends a channel event, unless the stream is reading the room on its own (then the event waits). */
  offer(roomId: number, event: RoomEvent, delivery?: Delivery): void {
    const waiting = this.#reading?.get(roomId);
    if (waiting !== undefined) waiting.push(event);
    else this.send(roomId, event, delivery);
  }

  /** Sends a channel event, unless the stream already has it. */
  send(roomId: number, event: RoomEvent, delivery = deliveryOf(event)): void {
    if (event.seq !== undefined) {
      const skip = this.#skip?.get(roomId);
      if (skip !== undefined) {
        if (event.seq <= skip) return;
        this.#skip!.delete(roomId);
      }
    }
    this.emit(roomId, event, delivery);
  }

  /** Moves the position past a message, and sends the event with it. */
  emit(roomId: number, event: RoomEvent, delivery = deliveryOf(event)): void {
    if (event.seq !== undefined) {
      // A muted room's messages move the position too: the stream chose not to hear them.
      const from = this.id();
      let next = delivery.advanced.get(from);
      if (next === undefined) delivery.advanced.set(from, (next = advance(this.position, roomId, event.seq)));
      // Once every room the stream follows is listed, the base says nothing more (rooms
      // joined later start at their join point either way): dropped, so streams opened at
      // different moments but now in the same place hand out the same id, and the same bytes.
      if (
        next.base !== 0 &&
        next.rooms.size >= this.rooms.size &&
        (this.#reading?.size ?? 0) === 0 &&
        this.#listsAll(next)
      ) {
        let canonical = delivery.canonical.get(next);
        if (canonical === undefined) delivery.canonical.set(next, (canonical = { ...next, base: 0, id: undefined }));
        next = canonical;
      }
      this.position = next;
      if (next.rooms.size > this.#compactAbove) this.#compact();
    }
    if (this.#muted?.has(roomId) === true || event.exceptUserId === this.userId) return;
    this.session.send(delivery.outgoing, this.id());
  }

  #listsAll(position: Position): boolean {
    for (const roomId of this.rooms) if (!position.rooms.has(roomId)) return false;
    return true;
  }

  /** Moves the position to `roomId` up to `seq`, without sending anything. */
  moveTo(roomId: number, seq: number): void {
    this.position = advance(this.position, roomId, seq);
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
    if (this.#compacting || (this.#reading?.size ?? 0) > 0) return;
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
  let rooms: Map<number, number> | undefined;
  for (const [roomId, room] of snapshot.rooms) if (room.busy) (rooms ??= new Map()).set(roomId, room.lastSeq);
  return { base: snapshot.maxId, rooms: rooms ?? NO_ROOMS, id: undefined };
}
