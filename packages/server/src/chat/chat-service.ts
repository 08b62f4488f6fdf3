import { messageEventOf } from '@streampod/protocol';
import type {
  AddMembersInput,
  ChatMessage,
  ChatRoom,
  CreateRoomInput,
  HistoryInput,
  MessageCursorInput,
  ReactInput,
  SendMessageInput,
  UserPresence,
} from '@streampod/protocol';
import type { Kysely } from 'kysely';
import { fail, type FanoutBus, type Logger } from '@streampod/framework';
import { KeyedQueue } from '../util/keyed-queue.js';
import type { DB } from '../db/index.js';
import { ChatHub, type ChatHubLoader, type ChatSession, type RoomEvent } from './chat-hub.js';
import { ChatRepository, UnknownUsersError, type RoomCursor } from './chat-repository.js';
import { ChatInputError, MessageRepository, type StoredMessage } from './message-repository.js';
import { decodePosition } from './stream-position.js';
import type { TypingExpiry, TypingStore } from './typing-store.js';

export interface ChatServiceOptions {
  db: Kysely<DB>;
  bus: FanoutBus;
  typing: TypingStore;
  log: Logger;
  /**
   * Typing ends by itself this long after the last `isTyping: true`.
   * @default 5_000
   */
  typingTimeoutMs?: number;
  /**
   * Message inserts running at once; sends beyond wait and are stored together, one
   * statement for many (group commit). 1 suits the embedded database, which runs one
   * statement at a time anyway.
   * @default 4
   */
  concurrentWrites?: number;
  /**
   * Most missed messages a resuming stream replays; beyond, it replays the latest ones and
   * flags the first with `gapBefore` so the client reloads history.
   * @default 1_000
   */
  maxCatchUp?: number;
  /** Counts what the service does (messages stored, typing broadcast), for `/metrics`. */
  observe?: { messageStored(): void; typingEvent(): void };
  /** Members joined or left a room (stored already): room presence and presence watches hear of it. */
  onMembersChanged?: (roomId: number, change: { joined?: readonly number[]; left?: readonly number[] }) => void;
}

interface Sender {
  readonly name: string;
  readonly avatarUrl: string | undefined;
}

/**
 * The chat rules on top of the repositories, the hub and the typing store: membership
 * checks, store-then-broadcast, idempotent sends, receipts, reactions, typing and streams.
 */
export class ChatService {
  readonly repo: ChatRepository;
  readonly messages: MessageRepository;
  readonly hub: ChatHub;
  readonly #typing: TypingStore;
  readonly #typingTimeoutMs: number;
  readonly #db: Kysely<DB>;
  readonly #log: Logger;
  readonly #senders = new Map<number, Sender>();
  readonly #presenceQueue = new KeyedQueue<number>();
  readonly #roomLookups = new Map<number, Promise<readonly number[]>>();
  readonly #onMembersChanged: ChatServiceOptions['onMembersChanged'];
  readonly #observe: ChatServiceOptions['observe'];

  constructor(opts: ChatServiceOptions) {
    this.#db = opts.db;
    this.#log = opts.log;
    this.#typing = opts.typing;
    this.#typingTimeoutMs = opts.typingTimeoutMs ?? 5_000;
    this.#onMembersChanged = opts.onMembersChanged;
    this.#observe = opts.observe;
    this.repo = new ChatRepository(opts.db);
    this.messages = new MessageRepository(
      opts.db,
      opts.concurrentWrites === undefined ? {} : { concurrentWrites: opts.concurrentWrites },
    );
    this.hub = new ChatHub({
      bus: opts.bus,
      log: opts.log,
      loader: this.#loader(),
      ...(opts.maxCatchUp === undefined ? {} : { maxCatchUp: opts.maxCatchUp }),
    });
  }

  /** Fails with FORBIDDEN unless the user is a member; nothing of the room is revealed. */
  async requireMember(roomId: number, userId: number): Promise<void> {
    if (!(await this.repo.isMember({ roomId, userId })))
      fail('FORBIDDEN', `roomId: you are not a member of room ${roomId}`);
  }

  async createRoom(creatorId: number, input: CreateRoomInput): Promise<ChatRoom> {
    const room = await this.#input(() =>
      this.repo.createRoom({ name: input.name, creatorId, memberIds: input.memberIds }),
    );
    for (const userId of room.memberIds) this.hub.publishJoin(userId, { roomId: room.id, joinedSeq: 0 });
    return room;
  }

  async addMembers(callerId: number, input: AddMembersInput): Promise<ChatRoom> {
    await this.requireMember(input.roomId, callerId);
    const result = await this.#input(() => this.repo.addMembers({ roomId: input.roomId, userIds: input.userIds }));
    if (result === undefined) return fail('NOT_FOUND', `roomId: no room ${input.roomId}`);
    for (const userId of result.added)
      this.hub.publishJoin(userId, { roomId: input.roomId, joinedSeq: result.joinedSeq });
    if (result.added.length > 0) this.#onMembersChanged?.(input.roomId, { joined: result.added });
    return result.room;
  }

  /**
   * The user stops being a member at once (the database first): their streams on every
   * node stop carrying the room, their typing there ends, and watches that only the room
   * allowed end.
   */
  async leaveRoom(userId: number, input: { roomId: number }): Promise<void> {
    const { roomId } = input;
    if (!(await this.repo.leaveRoom({ roomId, userId })))
      fail('FORBIDDEN', `roomId: you are not a member of room ${roomId}`);
    this.hub.publishLeave(userId, roomId);
    this.#onMembersChanged?.(roomId, { left: [userId] });
    // The user has left whatever the typing store says (it may be away with Redis).
    await this.stopTyping(userId, roomId).catch((error: unknown) =>
      this.#log.warn({ err: error }, 'chat: ending typing on leave failed'),
    );
  }

  /**
   * The ids of the user's rooms: what an open stream of theirs on this node follows (kept
   * current by joins and departures), else the database.
   */
  roomIdsOf(userId: number): Promise<readonly number[]> {
    const followed = this.hub.roomsFollowedBy(userId);
    if (followed !== undefined) return Promise.resolve(followed);
    // A change is told to chat streams and to room presence at once: one read for both.
    let lookup = this.#roomLookups.get(userId);
    if (lookup === undefined) {
      lookup = this.repo.roomIdsOf(userId).finally(() => this.#roomLookups.delete(userId));
      this.#roomLookups.set(userId, lookup);
    }
    return lookup;
  }

  listRooms(userId: number): Promise<ChatRoom[]> {
    return this.repo.listRooms(userId);
  }

  async history(userId: number, input: HistoryInput): Promise<ChatMessage[]> {
    await this.requireMember(input.roomId, userId);
    return this.messages.history({
      roomId: input.roomId,
      beforeMessageId: input.beforeMessageId,
      limit: input.limit ?? 50,
    });
  }

  /**
   * Stores the message (before anyone hears of it), then broadcasts it. A retry returns
   * the stored message and broadcasts it again, in case the first broadcast never left (a
   * crash, an outage): streams know it by its place in the room and never show it twice.
   */
  async sendMessage(senderId: number, input: SendMessageInput): Promise<ChatMessage> {
    // A reply names another message: only a member may learn whether it is in the room.
    if (input.replyToMessageId !== undefined) await this.requireMember(input.roomId, senderId);
    const stored = await this.#input(() =>
      this.messages.insert({
        roomId: input.roomId,
        senderId,
        content: input.content,
        messageType: input.messageType ?? 'text',
        clientMessageId: input.clientMessageId,
        replyToMessageId: input.replyToMessageId,
        mediaUrl: input.mediaUrl,
      }),
    );
    // A new message was stored for a member; anything else (a retry, a refusal, no such
    // room) is told apart here, off the common path.
    if (stored === undefined || !stored.created) await this.requireMember(input.roomId, senderId);
    if (stored === undefined) return fail('NOT_FOUND', `roomId: no room ${input.roomId}`);
    if (stored.created) this.#observe?.messageStored();
    const sender = await this.#sender(senderId);
    this.hub.publish(stored.message.chatRoomId, this.#messageEvent(stored, sender));
    // Sending ends typing there; the message is stored whatever the typing store says.
    this.stopTyping(senderId, stored.message.chatRoomId).catch((error: unknown) =>
      this.#log.warn({ err: error }, 'chat: ending typing failed'),
    );
    return stored.message;
  }

  /** How far each member has read and received the room (members with no cursor yet left out). */
  async receipts(userId: number, input: { roomId: number }): Promise<RoomCursor[]> {
    await this.requireMember(input.roomId, userId);
    return this.repo.cursors(input.roomId);
  }

  async markCursor(userId: number, input: MessageCursorInput & { kind: 'read' | 'delivered' }): Promise<void> {
    await this.requireMember(input.roomId, userId);
    const moved = await this.#input(() =>
      this.repo.advanceCursor({ roomId: input.roomId, userId, kind: input.kind, messageId: input.messageId }),
    );
    if (!moved) return;
    this.hub.publish(input.roomId, {
      event: {
        type: input.kind,
        conversationId: input.roomId,
        timestamp: new Date(),
        senderId: userId,
        messageId: input.messageId,
      },
    });
  }

  async react(userId: number, input: ReactInput): Promise<void> {
    const stored = await this.messages.get(input.messageId);
    // An unknown message and a message of someone else's room look the same from outside.
    if (stored === undefined || !(await this.repo.isMember({ roomId: stored.message.chatRoomId, userId }))) {
      fail('FORBIDDEN', `messageId: no message ${input.messageId} in your rooms`);
    }
    const roomId = stored.message.chatRoomId;
    const removed = input.removed ?? false;
    const changed = await this.repo.setReaction({ messageId: input.messageId, userId, emoji: input.emoji, removed });
    if (changed !== true) return;
    this.hub.publish(roomId, {
      event: {
        type: 'reaction',
        conversationId: roomId,
        timestamp: new Date(),
        senderId: userId,
        messageId: input.messageId,
        emoji: input.emoji,
        removed,
      },
    });
  }

  /**
   * Opens a chat stream at the position its `lastEventId` names (see `stream-position.ts`),
   * or fresh at the newest message of every room.
   */
  async openStream(session: ChatSession, userId: number): Promise<void> {
    const resumeFrom = session.resumeFrom;
    const from = resumeFrom === undefined ? undefined : decodePosition(resumeFrom);
    if (resumeFrom !== undefined && from === undefined) {
      fail('BAD_REQUEST', `lastEventId: "${resumeFrom.slice(0, 80)}" is not an id this stream sent`);
    }
    await this.hub.open(session, { userId, from });
  }

  /**
   * `typing` (from any call: typing is the user's) or `subscription` (mute: acts on the
   * connection's open chat streams, so it needs one).
   */
  async handleStreamMessage(
    input: { streams: readonly ChatSession[]; userId: number },
    message:
      | { type: 'typing'; roomId: number; isTyping: boolean }
      | { type: 'subscription'; roomId: number; subscribe: boolean },
  ): Promise<void> {
    await this.requireMember(message.roomId, input.userId);
    if (message.type === 'typing') {
      await this.setTyping({ roomId: message.roomId, userId: input.userId, isTyping: message.isTyping });
      return;
    }
    const streams = input.streams.filter((session) => this.hub.has(session));
    if (streams.length === 0) {
      fail('PRECONDITION_FAILED', 'open chat.stream on this connection first: muting acts on its stream');
    }
    for (const session of streams) this.hub.setMuted(session, { roomId: message.roomId, muted: !message.subscribe });
  }

  /** Starts (or keeps up) or ends a user's typing in a room; the room hears starts and ends only. */
  async setTyping(input: { roomId: number; userId: number; isTyping: boolean }): Promise<void> {
    if (!input.isTyping) {
      await this.stopTyping(input.userId, input.roomId);
      return;
    }
    const { started, version } = await this.#typing.start({ ...input, ttlMs: this.#typingTimeoutMs });
    if (started) await this.#publishTyping({ ...input, version });
  }

  /** Ends the user's typing in `roomId`, or in every room. */
  async stopTyping(userId: number, roomId?: number): Promise<void> {
    const rooms = roomId === undefined ? await this.#typing.roomsOf(userId) : [roomId];
    for (const id of rooms) {
      const { stopped, version } = await this.#typing.stop({ roomId: id, userId });
      if (stopped) await this.#publishTyping({ roomId: id, userId, isTyping: false, version });
    }
  }

  /**
   * A user's presence changed: their rooms hear of a new status (`presence` events in
   * `chat.stream`), and a user gone offline (their last connection, on any node) types no more.
   */
  presenceChanged(change: { before: UserPresence; after: UserPresence; version: number }): Promise<void> {
    const presence = change.after;
    // Devices and last seen change often; rooms hear about the status only.
    if (change.before.status === presence.status) return Promise.resolve();
    // In the user's queue, so a slow lookup cannot put "online" after a later "offline" here;
    // the version orders changes made on different nodes.
    return this.#presenceQueue.run(presence.userId, async () => {
      if (presence.status === 'offline') await this.stopTyping(presence.userId);
      const roomIds = await this.roomIdsOf(presence.userId);
      const timestamp = new Date();
      for (const roomId of roomIds) {
        this.hub.publish(roomId, {
          event: {
            type: 'presence',
            conversationId: roomId,
            timestamp,
            senderId: presence.userId,
            presenceStatus: presence.status,
          },
          exceptUserId: presence.userId,
          presenceVersion: change.version,
        });
      }
    });
  }

  close(): void {
    this.hub.shutdown();
  }

  async #publishTyping(input: { roomId: number; userId: number; isTyping: boolean; version: number }): Promise<void> {
    const sender = await this.#sender(input.userId);
    this.#observe?.typingEvent();
    this.hub.publish(input.roomId, {
      event: {
        type: 'typing',
        conversationId: input.roomId,
        timestamp: new Date(),
        senderId: input.userId,
        senderName: sender.name,
        isTyping: input.isTyping,
      },
      exceptUserId: input.userId,
      typing: { version: input.version, ttlMs: this.#typingTimeoutMs },
    });
  }

  #messageEvent(stored: StoredMessage, sender: Sender): RoomEvent {
    return { event: messageEventOf(stored.message, sender), seq: stored.seq };
  }

  async #messageEvents(stored: readonly StoredMessage[]): Promise<RoomEvent[]> {
    const events: RoomEvent[] = [];
    for (const s of stored) events.push(this.#messageEvent(s, await this.#sender(s.message.senderId)));
    return events;
  }

  /** What the hub reads from the database and the typing store. */
  #loader(): ChatHubLoader {
    return {
      membershipsOf: (userId) => this.repo.membershipsOf(userId),
      recentMemberships: (input) => this.repo.recentMemberships(input),
      stillMembers: (pairs) => this.repo.stillMembers(pairs),
      snapshot: (roomIds, base) =>
        base === undefined ? this.messages.snapshot(roomIds) : this.messages.snapshot(roomIds, base),
      catchUp: async (input) => {
        const { snapshot, messages, more } = await this.messages.catchUp(input);
        return { snapshot, more, events: await this.#messageEvents(messages) };
      },
      range: async (input) => this.#messageEvents(await this.messages.range(input)),
      typingTimedOut: async (roomId, userId): Promise<TypingExpiry> => {
        const expiry = await this.#typing.expire({ roomId, userId });
        if (expiry.state === 'expired')
          await this.#publishTyping({ roomId, userId, isTyping: false, version: expiry.version });
        return expiry;
      },
    };
  }

  async #sender(userId: number): Promise<Sender> {
    const cached = this.#senders.get(userId);
    if (cached !== undefined) return cached;
    const row = await this.#db
      .selectFrom('users')
      .select(['displayName', 'avatarUrl'])
      .where('id', '=', userId)
      .executeTakeFirst();
    const sender = { name: row?.displayName ?? `user ${userId}`, avatarUrl: row?.avatarUrl ?? undefined };
    this.#senders.set(userId, sender);
    return sender;
  }

  /** Repository input errors become BAD_REQUEST naming the field. */
  async #input<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof UnknownUsersError) fail('BAD_REQUEST', error.message, error);
      if (error instanceof ChatInputError) fail('BAD_REQUEST', error.message, error);
      throw error;
    }
  }
}
