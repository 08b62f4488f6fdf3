import type { ChatMessage, ChatStreamMessage } from '@streampod/protocol';
import { jitteredBackoff } from '../runtime/backoff.js';
import { getChatStreamHub, type ChatStreamHub } from './chat-stream-hub.js';
import { DeliveryAcks } from './delivery-acks.js';
import { isFinal, toError } from '../runtime/errors.js';
import { insertMessage, mergeHistory, newest, toChatMessage } from './message-list.js';
import { Outbox, type SendOptions, type SendRetryOptions } from './outbox.js';
import { applyCursor, applyReaction, mergeCursors, storedReactions } from './receipts.js';
import { TypingUsers } from './typing-users.js';
import { loadingSnapshot, type ChatClient, type ChatRoomSnapshot } from './types.js';

export interface ChatRoomOptions {
  /** Messages loaded at start, and again after the stream had to start over. @default 50 */
  historyLimit?: number;
  /** Tell the server when messages of others reach this view (`markDelivered`). @default true */
  autoDeliver?: boolean;
  /** At most one `markDelivered` per this many ms; the newest message is acknowledged. @default 500 */
  deliveredThrottleMs?: number;
  /** A typer whose end event got lost is dropped after this long. @default 6_000 */
  typingExpiryMs?: number;
  /** @default { attempts: 4, backoff: { initialDelayMs: 500, maxDelayMs: 5_000 } } */
  sendRetry?: SendRetryOptions;
}

/** A history load that failed this many times in a row (not refused) gives up and shows the error. */
const HISTORY_ATTEMPTS = 5;
const historyDelay = jitteredBackoff({ initialDelayMs: 250, maxDelayMs: 5_000 });

/**
 * One room, live: its latest history, then every message as it arrives on the client's
 * shared `chat.stream`, de-duplicated and in id order; our own messages show at once as
 * pending and turn into the stored message exactly once. Also who is typing, receipts and
 * reactions. Read it with `getSnapshot()` and `onChange` (the pair `useSyncExternalStore`
 * takes); `dispose()` when done.
 */
export class ChatRoomView {
  readonly roomId: number;
  readonly #client: ChatClient;
  readonly #hub: ChatStreamHub;
  readonly #outbox: Outbox;
  readonly #typing: TypingUsers;
  readonly #listeners = new Set<() => void>();
  readonly #historyLimit: number;
  readonly #deliveries: DeliveryAcks | undefined;
  readonly #stopStream: () => void;
  #snapshot: ChatRoomSnapshot;
  #me: number | undefined;
  #disposed = false;
  #batchDepth = 0;
  #dirty = false;
  #loadGeneration = 0;
  #loadTimer: ReturnType<typeof setTimeout> | undefined;
  #readSent = 0;

  constructor(opts: { client: ChatClient; roomId: number } & ChatRoomOptions) {
    this.roomId = opts.roomId;
    this.#client = opts.client;
    this.#historyLimit = opts.historyLimit ?? 50;
    this.#deliveries =
      opts.autoDeliver === false
        ? undefined
        : new DeliveryAcks({
            throttleMs: opts.deliveredThrottleMs ?? 500,
            target: () => this.#deliveryTarget(),
            send: (messageId) => this.#client.chat.markDelivered({ roomId: this.roomId, messageId }),
          });
    this.#snapshot = loadingSnapshot(opts.roomId);
    this.#hub = getChatStreamHub(opts.client);
    this.#typing = new TypingUsers({
      expiryMs: opts.typingExpiryMs ?? 6_000,
      onChange: () => this.#publish({ typingUserIds: this.#typing.ids, typingNames: this.#typing.names }),
    });
    this.#outbox = new Outbox({
      roomId: opts.roomId,
      call: (input) => this.#client.chat.sendMessage(input),
      onStored: (message) => this.#batch(() => this.#addStored(message, true)),
      onChange: () => this.#publish({ pending: this.#outbox.pending }),
      ...(opts.sendRetry === undefined ? {} : { retry: opts.sendRetry }),
    });
    this.#hub.me().then(
      (id) => {
        this.#me = id;
        this.#deliveries?.schedule();
      },
      () => undefined, // without our id, only delivery receipts wait; the next view asks again
    );
    this.#stopStream = this.#hub.listen(opts.roomId, {
      onEvent: (event) => this.#batch(() => this.#onEvent(event)),
      onResync: () => this.#load(0),
      onError: (error) => this.#publish({ isLoading: false, error }),
    });
  }

  /** The current snapshot: the same object until something in it changes. */
  readonly getSnapshot = (): ChatRoomSnapshot => this.#snapshot;

  /** Calls `listener` after each change; returns the function that stops it. */
  readonly onChange = (listener: () => void): (() => void) => {
    const entry = () => listener(); // the same function twice counts twice, like two components
    this.#listeners.add(entry);
    return () => this.#listeners.delete(entry);
  };

  /**
   * Sends a message: it is pending at once, then replaced by the stored message. Failed
   * attempts are retried with the same `clientMessageId`; after the last it is `failed`
   * (see `retry`). Resolves with the stored message, or `undefined` if it failed; never rejects.
   */
  send(content: string, opts?: SendOptions): Promise<ChatMessage | undefined> {
    if (this.#disposed) return Promise.resolve(undefined);
    this.#hub.announceSend(this.roomId);
    return this.#outbox.send(content, opts);
  }

  /** Sends a `failed` message again, with the same `clientMessageId`. */
  retry(clientMessageId: string): Promise<ChatMessage | undefined> {
    return this.#outbox.retry(clientMessageId);
  }

  /**
   * Marks the room read up to `messageId` (default: the newest message shown). Resolves
   * with false if the server could not be told (a later call tries again); never rejects.
   */
  async markRead(messageId?: number): Promise<boolean> {
    const target = messageId ?? this.#snapshot.messages.at(-1)?.id;
    if (target === undefined || target <= this.#readSent) return true;
    const before = this.#readSent;
    this.#readSent = target;
    try {
      await this.#client.chat.markRead({ roomId: this.roomId, messageId: target });
      return true;
    } catch {
      if (this.#readSent === target) this.#readSent = before;
      return false;
    }
  }

  /** Stops following the room; pending sends stop retrying. */
  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#stopStream();
    this.#outbox.dispose();
    this.#typing.dispose();
    clearTimeout(this.#loadTimer);
    this.#deliveries?.dispose();
    this.#listeners.clear();
  }

  #onEvent(event: ChatStreamMessage): void {
    switch (event.type) {
      case 'message':
        // The server ends a sender's typing when their message lands; do not wait for that event.
        this.#typing.remove(event.senderId);
        this.#addStored(toChatMessage(event), false);
        break;
      case 'typing':
        this.#typing.apply(event);
        break;
      case 'read':
      case 'delivered': {
        const receipts = applyCursor(this.#snapshot.receipts, event);
        if (receipts !== undefined) this.#publish({ receipts });
        break;
      }
      case 'reaction': {
        const reactions = applyReaction(this.#snapshot.reactions, event);
        if (reactions !== undefined) this.#publish({ reactions });
        break;
      }
      case 'presence':
        break; // presence belongs to the PresenceTracker
    }
  }

  /** A stored message, from the stream, a send's answer (`ours`) or history. */
  #addStored(message: ChatMessage, ours: boolean): void {
    const messages = insertMessage(this.#snapshot.messages, message);
    if (messages !== undefined) this.#publish({ messages });
    // Matched by clientMessageId, and by sender once known: ids are only unique per sender.
    if (ours || this.#me === undefined || message.senderId === this.#me) this.#outbox.settle(message);
    if (!ours) this.#deliveries?.schedule();
  }

  #load(attempt: number): void {
    if (this.#disposed) return;
    clearTimeout(this.#loadTimer);
    const generation = ++this.#loadGeneration;
    // Receipts and reactions as stored, so ticks and reactions survive a reload.
    Promise.all([
      this.#client.chat.history({ roomId: this.roomId, limit: this.#historyLimit }),
      this.#client.chat.receipts({ roomId: this.roomId }),
    ]).then(
      ([page, cursors]) => {
        if (this.#disposed || generation !== this.#loadGeneration) return;
        this.#batch(() => {
          this.#publish({
            messages: mergeHistory(this.#snapshot.messages, page),
            receipts: mergeCursors(this.#snapshot.receipts, cursors),
            reactions: storedReactions(this.#snapshot.reactions, page),
            isLoading: false,
            error: null,
          });
          for (const message of page)
            if (this.#me === undefined || message.senderId === this.#me) this.#outbox.settle(message);
        });
        this.#deliveries?.schedule();
      },
      (reason: unknown) => {
        if (this.#disposed || generation !== this.#loadGeneration) return;
        const error = toError(reason);
        if (isFinal(error) || attempt + 1 >= HISTORY_ATTEMPTS) {
          this.#publish({ isLoading: false, error });
          return;
        }
        this.#loadTimer = setTimeout(() => this.#load(attempt + 1), historyDelay(attempt));
      },
    );
  }

  /** The newest message of others, unless the server already knows it reached us. */
  #deliveryTarget(): number | undefined {
    const me = this.#me;
    if (me === undefined) return undefined;
    const target = newest(this.#snapshot.messages, (m) => m.senderId !== me)?.id;
    const known = this.#snapshot.receipts[me]?.deliveredMessageId ?? 0;
    return target === undefined || target <= known ? undefined : target;
  }

  /** Runs `work`, telling listeners once at the end however many fields it changed. */
  #batch(work: () => void): void {
    this.#batchDepth++;
    try {
      work();
    } finally {
      this.#batchDepth--;
      if (this.#batchDepth === 0 && this.#dirty) {
        this.#dirty = false;
        this.#notify();
      }
    }
  }

  #publish(patch: Partial<ChatRoomSnapshot>): void {
    const current = this.#snapshot;
    const keys = Object.keys(patch) as (keyof ChatRoomSnapshot)[];
    if (this.#disposed || keys.every((key) => patch[key] === current[key])) return;
    this.#snapshot = Object.freeze({ ...current, ...patch });
    if (this.#batchDepth > 0) this.#dirty = true;
    else this.#notify();
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }
}

/** Opens a live view of one room on the client's shared chat stream. */
export function createChatRoom(client: ChatClient, roomId: number, opts: ChatRoomOptions = {}): ChatRoomView {
  return new ChatRoomView({ client, roomId, ...opts });
}
