import type { ChatStreamMessage } from '@streampod/protocol';
import { OutgoingEvent } from '../core/outgoing-event.js';
import type { StreamingSession } from '../core/session.js';
import type { FanoutBus } from '../fanout/fanout-bus.js';

/** What travels on a room's bus topic. */
export interface RoomEvent {
  readonly event: ChatStreamMessage;
  /** Set on `message` events: the stored message id, the stream's resumable cursor. */
  readonly messageId?: number;
  /** Not delivered to this user's streams (their own typing). */
  readonly exceptUserId?: number;
}

/** What travels on a user's bus topic: rooms they joined, for their open streams to follow. */
export interface UserEvent {
  readonly joinedRoomId: number;
}

export type ChatSession = StreamingSession<ChatStreamMessage, unknown>;

/** One open `chat.stream` on this node. */
interface Follower {
  readonly session: ChatSession;
  readonly userId: number;
  readonly rooms: Set<number>;
  readonly muted: Set<number>;
  /** While catch-up runs, live events wait here, in order. */
  buffer: RoomEvent[] | undefined;
  /**
   * The highest message id this stream has seen (the resume cursor, then replayed and live
   * messages). Messages become visible and are published in id order, so a live message at
   * or below it was already sent: a message committed just before catch-up read it but
   * published just after is dropped here, not sent twice.
   */
  highWater: number;
}

const roomTopic = (roomId: number) => `room:${roomId}`;
const userTopic = (userId: number) => `user:${userId}`;

/**
 * Chat fan-out on this node: every room event goes through the bus once, is serialized once,
 * and reaches the local streams following that room (not muted, not the typer). A stream
 * follows all its user's rooms, including rooms joined while it is open.
 */
export class ChatHub {
  readonly #bus: FanoutBus;
  readonly #rooms = new Map<number, Set<Follower>>();
  readonly #roomSubscriptions = new Map<number, () => void>();
  readonly #users = new Map<number, Set<Follower>>();
  readonly #userSubscriptions = new Map<number, () => void>();
  readonly #bySession = new Map<ChatSession, Follower>();

  constructor(bus: FanoutBus) {
    this.#bus = bus;
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
   * Starts following `roomIds` for a stream. Live events are held back until `endCatchUp`,
   * so a catch-up can run first without losing or repeating anything.
   */
  follow(session: ChatSession, input: { userId: number; roomIds: readonly number[]; after: number }): void {
    const follower: Follower = {
      session,
      userId: input.userId,
      rooms: new Set(),
      muted: new Set(),
      buffer: [],
      highWater: input.after,
    };
    this.#bySession.set(session, follower);
    let mine = this.#users.get(input.userId);
    if (mine === undefined) {
      this.#users.set(input.userId, (mine = new Set()));
      this.#userSubscriptions.set(
        input.userId,
        this.#bus.subscribe<UserEvent>(userTopic(input.userId), (e) => this.#joined(input.userId, e.joinedRoomId)),
      );
    }
    mine.add(follower);
    for (const roomId of input.roomIds) this.#addRoom(follower, roomId);
  }

  /** Adds rooms to a stream (those its user already had when it opened). */
  addRooms(session: ChatSession, roomIds: readonly number[]): void {
    const follower = this.#bySession.get(session);
    if (follower !== undefined) for (const roomId of roomIds) this.#addRoom(follower, roomId);
  }

  /** Records a message sent by catch-up, so its live copy is not sent again. */
  replayed(session: ChatSession, messageId: number): void {
    const follower = this.#bySession.get(session);
    if (follower !== undefined) follower.highWater = Math.max(follower.highWater, messageId);
  }

  /** Catch-up is done: sends the live events held back meanwhile (minus replayed ones), then goes live. */
  endCatchUp(session: ChatSession): void {
    const follower = this.#bySession.get(session);
    if (follower === undefined) return;
    const buffered = follower.buffer ?? [];
    follower.buffer = undefined;
    for (const event of buffered) this.#send(follower, event, eventOf(event));
  }

  /** Mutes or unmutes a room for this one stream. */
  setMuted(session: ChatSession, input: { roomId: number; muted: boolean }): void {
    const follower = this.#bySession.get(session);
    if (follower === undefined) return;
    if (input.muted) follower.muted.add(input.roomId);
    else follower.muted.delete(input.roomId);
  }

  /** The stream closed: stops following everything. */
  unfollow(session: ChatSession): void {
    const follower = this.#bySession.get(session);
    if (follower === undefined) return;
    this.#bySession.delete(session);
    for (const roomId of follower.rooms) {
      const set = this.#rooms.get(roomId);
      set?.delete(follower);
      if (set?.size === 0) {
        this.#rooms.delete(roomId);
        this.#roomSubscriptions.get(roomId)?.();
        this.#roomSubscriptions.delete(roomId);
      }
    }
    const mine = this.#users.get(follower.userId);
    mine?.delete(follower);
    if (mine?.size === 0) {
      this.#users.delete(follower.userId);
      this.#userSubscriptions.get(follower.userId)?.();
      this.#userSubscriptions.delete(follower.userId);
    }
  }

  /** Open streams of a user on this node. */
  streamsOf(userId: number): number {
    return this.#users.get(userId)?.size ?? 0;
  }

  #joined(userId: number, roomId: number): void {
    for (const follower of this.#users.get(userId) ?? []) this.#addRoom(follower, roomId);
  }

  #addRoom(follower: Follower, roomId: number): void {
    if (follower.rooms.has(roomId)) return;
    follower.rooms.add(roomId);
    let set = this.#rooms.get(roomId);
    if (set === undefined) {
      this.#rooms.set(roomId, (set = new Set()));
      this.#roomSubscriptions.set(
        roomId,
        this.#bus.subscribe<RoomEvent>(roomTopic(roomId), (e) => this.#deliver(roomId, e)),
      );
    }
    set.add(follower);
  }

  #deliver(roomId: number, event: RoomEvent): void {
    const followers = this.#rooms.get(roomId);
    if (followers === undefined) return;
    // One event object, serialized at most once, for every follower of the room.
    const outgoing = eventOf(event);
    for (const follower of followers) {
      if (follower.buffer !== undefined) follower.buffer.push(event);
      else this.#send(follower, event, outgoing);
    }
  }

  #send(follower: Follower, event: RoomEvent, outgoing: OutgoingEvent<ChatStreamMessage>): void {
    if (follower.muted.has(event.event.conversationId)) return;
    if (event.exceptUserId === follower.userId) return;
    if (event.messageId !== undefined) {
      if (event.messageId <= follower.highWater) return;
      follower.highWater = event.messageId;
    }
    follower.session.send(outgoing);
  }
}

const outgoingCache = new WeakMap<RoomEvent, OutgoingEvent<ChatStreamMessage>>();

/** The shared outgoing form of a room event (a message's id is its cursor). */
function eventOf(event: RoomEvent): OutgoingEvent<ChatStreamMessage> {
  let outgoing = outgoingCache.get(event);
  if (outgoing === undefined) {
    outgoing = new OutgoingEvent(event.event, event.messageId === undefined ? undefined : String(event.messageId));
    outgoingCache.set(event, outgoing);
  }
  return outgoing;
}
