import type { ChatMessage, ContentType } from '@streampod/protocol';
import type { StreampodClient } from '../client.js';

/** The part of the client the chat helpers use (tests and wrappers can pass a narrower object). */
export type ChatClient = Pick<StreampodClient, 'chat' | 'users'>;

/** A message of ours the server has not confirmed yet, shown before it is stored. */
export interface PendingMessage {
  /** Chosen here; every attempt reuses it, so the server stores the message once. */
  readonly clientMessageId: string;
  readonly content: string;
  readonly messageType: ContentType;
  readonly replyToMessageId?: number;
  readonly mediaUrl?: string;
  /** `sending` while attempts go on (retries included); `failed` once they ran out: call `retry`. */
  readonly status: 'sending' | 'failed';
  /** Why the last attempt failed. */
  readonly error: Error | null;
  /** When `send` was called, for ordering and display. */
  readonly createdAt: Date;
}

/** How far one member has got in a room. */
export interface Receipt {
  /** Read up to and including this message id. */
  readonly readMessageId: number | null;
  /** Delivered up to and including this message id (reading implies delivery). */
  readonly deliveredMessageId: number | null;
}

/** One message's reactions: emoji → ids of the users who reacted with it, in order. */
export type MessageReactions = Readonly<Record<string, readonly number[]>>;

/**
 * What a room view shows. A new object only when something in it changed (and each field
 * keeps its identity while it is unchanged), for `useSyncExternalStore` and Vue refs.
 */
export interface ChatRoomSnapshot {
  readonly roomId: number;
  /** Stored messages, de-duplicated and sorted by id (oldest first). */
  readonly messages: readonly ChatMessage[];
  /** Our messages not stored yet, in the order they were sent. */
  readonly pending: readonly PendingMessage[];
  /** Members typing now (never ourselves), in the order they started. */
  readonly typingUserIds: readonly number[];
  /** Their display names, in the same order: ready for `formatTyping`. */
  readonly typingNames: readonly string[];
  /** By user id: how far each member has read and received (as stored when loaded, then live). */
  readonly receipts: Readonly<Record<number, Receipt>>;
  /** By message id: its reactions (as stored for the loaded page, then live). */
  readonly reactions: Readonly<Record<number, MessageReactions>>;
  /** True until the first page of history has arrived (or failed). */
  readonly isLoading: boolean;
  /** Why loading the history or following the stream failed. */
  readonly error: Error | null;
}

const none = Object.freeze([]) as readonly never[];
const empty = Object.freeze({}) as Readonly<Record<number, never>>;

/** A room view before anything arrived. */
export function loadingSnapshot(roomId: number): ChatRoomSnapshot {
  return Object.freeze({
    roomId,
    messages: none,
    pending: none,
    typingUserIds: none,
    typingNames: none,
    receipts: empty,
    reactions: empty,
    isLoading: true,
    error: null,
  });
}
