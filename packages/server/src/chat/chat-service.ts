import { messageEventOf } from '@streampod/protocol';
import type {
  AddMembersInput,
  ChatClientStreamMessage,
  ChatMessage,
  ChatRoom,
  ChatStreamMessage,
  CreateRoomInput,
  HistoryInput,
  MessageCursorInput,
  ReactInput,
  SendMessageInput,
  UserPresence,
} from '@streampod/protocol';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { fail } from '../core/errors.js';
import { KeyedQueue } from '../core/keyed-queue.js';
import type { DB } from '../db/index.js';
import { AsyncLock } from '../db/async-lock.js';
import { ChatHub, type ChatSession } from './chat-hub.js';
import { ChatInputError, ChatRepository, UnknownUsersError } from './chat-repository.js';
import { TypingService } from './typing-service.js';
import type { FanoutBus } from '../fanout/fanout-bus.js';

export interface ChatServiceOptions {
  db: Kysely<DB>;
  bus: FanoutBus;
  log: Logger;
  /** @default 5_000 */
  typingTimeoutMs?: number;
  /**
   * Most missed messages a resuming stream replays; beyond, it replays the latest ones and
   * flags the first with `gapBefore` so the client reloads history.
   * @default 1_000
   */
  maxCatchUp?: number;
}

interface Sender {
  readonly name: string;
  readonly avatarUrl: string | undefined;
}

/**
 * The chat rules on top of the repository and the hub: membership checks, store-then-
 * broadcast, idempotent sends, receipts, reactions, typing and stream catch-up.
 */
export class ChatService {
  readonly repo: ChatRepository;
  readonly hub: ChatHub;
  readonly typing: TypingService;
  readonly #db: Kysely<DB>;
  readonly #log: Logger;
  readonly #maxCatchUp: number;
  readonly #senders = new Map<number, Sender>();
  /**
   * Messages are stored and published one at a time on a node, so publication follows id
   * order and a stream's cursor (the last message id it saw) never skips a message.
   */
  readonly #sendLock = new AsyncLock();

  constructor(opts: ChatServiceOptions) {
    this.#db = opts.db;
    this.#log = opts.log;
    this.#maxCatchUp = opts.maxCatchUp ?? 1_000;
    this.repo = new ChatRepository(opts.db);
    this.hub = new ChatHub(opts.bus);
    this.typing = new TypingService({
      timeoutMs: opts.typingTimeoutMs ?? 5_000,
      onChange: ({ roomId, userId, isTyping }) => {
        // In the user's queue: a quick stop must not overtake its start while a name loads.
        this.#inOrder(userId, () => this.#sender(userId)).then(
          (sender) =>
            this.hub.publish(roomId, {
              event: {
                type: 'typing',
                conversationId: roomId,
                timestamp: new Date(),
                senderId: userId,
                senderName: sender.name,
                isTyping,
              },
              exceptUserId: userId,
            }),
          (error: unknown) => this.#log.error({ err: error }, 'typing broadcast failed'),
        );
      },
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
    for (const userId of room.memberIds) this.hub.publishJoin(userId, room.id);
    return room;
  }

  async addMembers(callerId: number, input: AddMembersInput): Promise<ChatRoom> {
    await this.requireMember(input.roomId, callerId);
    const result = await this.#input(() => this.repo.addMembers({ roomId: input.roomId, userIds: input.userIds }));
    if (result === undefined) return fail('NOT_FOUND', `roomId: no room ${input.roomId}`);
    for (const userId of result.added) this.hub.publishJoin(userId, input.roomId);
    return result.room;
  }

  listRooms(userId: number): Promise<ChatRoom[]> {
    return this.repo.listRooms(userId);
  }

  async history(userId: number, input: HistoryInput): Promise<ChatMessage[]> {
    await this.requireMember(input.roomId, userId);
    return this.repo.history({
      roomId: input.roomId,
      beforeMessageId: input.beforeMessageId,
      limit: input.limit ?? 50,
    });
  }

  /** Stores the message (before anyone hears of it), then broadcasts it once; a retry returns the stored one. */
  async sendMessage(senderId: number, input: SendMessageInput): Promise<ChatMessage> {
    await this.requireMember(input.roomId, senderId);
    const sender = await this.#sender(senderId);
    await this.#sendLock.acquire();
    try {
      const { message, created } = await this.#input(() =>
        this.repo.insertMessage({
          roomId: input.roomId,
          senderId,
          content: input.content,
          messageType: input.messageType ?? 'text',
          clientMessageId: input.clientMessageId,
          replyToMessageId: input.replyToMessageId,
          mediaUrl: input.mediaUrl,
        }),
      );
      if (created)
        this.hub.publish(message.chatRoomId, { event: messageEventOf(message, sender), messageId: message.id });
      this.typing.stop(senderId, message.chatRoomId);
      return message;
    } finally {
      this.#sendLock.release();
    }
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
    const message = await this.repo.getMessage(input.messageId);
    // An unknown message and a message of someone else's room look the same from outside.
    if (message === undefined || !(await this.repo.isMember({ roomId: message.chatRoomId, userId }))) {
      fail('FORBIDDEN', `messageId: no message ${input.messageId} in your rooms`);
    }
    const removed = input.removed ?? false;
    const changed = await this.repo.setReaction({ messageId: input.messageId, userId, emoji: input.emoji, removed });
    if (changed !== true) return;
    this.hub.publish(message.chatRoomId, {
      event: {
        type: 'reaction',
        conversationId: message.chatRoomId,
        timestamp: new Date(),
        senderId: userId,
        messageId: input.messageId,
        emoji: input.emoji,
        removed,
      },
    });
  }

  /**
   * Opens a chat stream: follow every room of the user (live events held back), replay what
   * the client missed after `resumeFrom` (a message id), then release the held-back events.
   */
  async openStream(session: ChatSession, userId: number): Promise<void> {
    const resumeFrom = session.resumeFrom;
    if (resumeFrom !== undefined && !/^\d{1,15}$/.test(resumeFrom)) {
      fail('BAD_REQUEST', `lastEventId: "${resumeFrom}" is not an id this stream sent`);
    }
    // A fresh stream starts at the newest message, so even its first ephemeral events carry
    // a cursor that a resume can replay from.
    const after = resumeFrom === undefined ? await this.repo.latestMessageId() : Number(resumeFrom);
    if (resumeFrom === undefined) session.moveCursor(String(after));
    // Follow first (rooms joined from now on are heard), then read the rooms it already has.
    this.hub.follow(session, { userId, roomIds: [], after });
    try {
      this.hub.addRooms(session, await this.repo.roomIdsOf(userId));
      if (resumeFrom !== undefined) await this.#catchUp(session, userId, after);
    } catch (error) {
      // The stream never opens, so its close callbacks will not run: let go here.
      this.closeStream(session, userId);
      throw error;
    }
    session.onClosed(() => this.closeStream(session, userId));
    this.hub.endCatchUp(session);
  }

  async handleStreamMessage(session: ChatSession, userId: number, message: ChatClientStreamMessage): Promise<void> {
    await this.requireMember(message.roomId, userId);
    if (message.type === 'typing') this.typing.set({ roomId: message.roomId, userId, isTyping: message.isTyping });
    else this.hub.setMuted(session, { roomId: message.roomId, muted: !message.subscribe });
  }

  closeStream(session: ChatSession, userId: number): void {
    this.hub.unfollow(session);
    // The user's last stream on this node is gone: they are not typing anywhere any more.
    if (this.hub.streamsOf(userId) === 0) this.typing.stop(userId);
  }

  /** Tells a user's rooms that their status changed (`presence` events in `chat.stream`). */
  async presenceChanged(change: { before: UserPresence; after: UserPresence }): Promise<void> {
    const presence = change.after;
    // Devices and last seen change often; rooms hear about the status only.
    if (change.before.status === presence.status) return;
    // In the user's queue, so a slow lookup cannot put "online" after a later "offline".
    const roomIds = await this.#inOrder(presence.userId, () => this.repo.roomIdsOf(presence.userId));
    for (const roomId of roomIds) {
      this.hub.publish(roomId, {
        event: {
          type: 'presence',
          conversationId: roomId,
          timestamp: new Date(),
          senderId: presence.userId,
          presenceStatus: presence.status,
        },
        exceptUserId: presence.userId,
      });
    }
  }

  close(): void {
    this.typing.close();
  }

  readonly #queue = new KeyedQueue<number>();

  /** Runs `work` after the user's earlier queued work, so their events go out in order. */
  #inOrder<T>(userId: number, work: () => Promise<T>): Promise<T> {
    return this.#queue.run(userId, work);
  }

  async #catchUp(session: ChatSession, userId: number, after: number): Promise<void> {
    const { messages, more } = await this.repo.backlog({ userId, afterMessageId: after, limit: this.#maxCatchUp });
    let replay = messages;
    let gapBefore = false;
    if (more) {
      // Too much to replay: send the latest ones and say that older ones were skipped.
      const latest = await this.repo.backlog({ userId, afterMessageId: after, limit: this.#maxCatchUp, latest: true });
      replay = latest.messages;
      gapBefore = true;
    }
    for (const [i, message] of replay.entries()) {
      const sender = await this.#sender(message.senderId);
      const event: ChatStreamMessage = {
        ...messageEventOf(message, sender),
        isCatchup: true,
        ...(gapBefore && i === 0 ? { gapBefore: true } : {}),
      };
      this.hub.replayed(session, message.id);
      session.sendStreamMessage(event, { cursor: String(message.id) });
    }
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
