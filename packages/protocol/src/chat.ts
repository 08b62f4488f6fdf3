import { z } from 'zod';
import { Id, idList, Text, wellFormed } from './common.js';
import { limits, utf8Length } from './limits.js';
import { PresenceStatus } from './presence.js';

export const ChatMessageType = z.enum(['message', 'typing', 'read', 'presence', 'delivered', 'reaction']);
export type ChatMessageType = z.infer<typeof ChatMessageType>;

/** The kind of content a stored message holds. */
export const ContentType = z.enum(['text', 'image']);
export type ContentType = z.infer<typeof ContentType>;

export const ChatRoom = z.object({
  id: Id,
  name: z.string(),
  memberIds: z.array(Id),
  createdAt: z.date(),
  /** Messages by others after the caller's read cursor (`chat.listRooms` only). */
  unreadCount: z.int().nonnegative().optional(),
  /** The caller's read cursor: read up to and including this message (`chat.listRooms` only). */
  lastReadMessageId: Id.nullable().optional(),
});
export type ChatRoom = z.infer<typeof ChatRoom>;

export const ChatMessage = z.object({
  id: Id,
  chatRoomId: Id,
  senderId: Id,
  content: z.string(),
  messageType: ContentType,
  replyToMessageId: Id.optional(),
  mediaUrl: z.string().optional(),
  clientMessageId: z.string(),
  createdAt: z.date(),
  /** Who reacted with what, emoji by emoji in the order first used (`chat.history` only). */
  reactions: z.array(z.object({ emoji: z.string(), userIds: z.array(Id) })).optional(),
});
export type ChatMessage = z.infer<typeof ChatMessage>;

/** `chat.receipts`: how far each member has read and received a room (message ids; null: nothing yet). */
export const RoomReceipt = z.object({
  userId: Id,
  lastReadMessageId: Id.nullable(),
  lastDeliveredMessageId: Id.nullable(),
});
export type RoomReceipt = z.infer<typeof RoomReceipt>;
export const RoomReceiptList = z.array(RoomReceipt);

/** A room of the caller's, by id. */
export const RoomIdInput = z.object({ roomId: Id });
export type RoomIdInput = z.infer<typeof RoomIdInput>;

export const ChatMessageList = z.array(ChatMessage);
export const ChatRoomList = z.array(ChatRoom);

const RoomName = Text.trim().min(1).max(100);
const MemberIds = idList(1000);

export const CreateRoomInput = z.object({ name: RoomName, memberIds: MemberIds });
export type CreateRoomInput = z.infer<typeof CreateRoomInput>;

/** `chat.leaveRoom`: the room the caller leaves. */
export const LeaveRoomInput = z.object({ roomId: Id });
export type LeaveRoomInput = z.infer<typeof LeaveRoomInput>;

export const AddMembersInput = z.object({ roomId: Id, userIds: MemberIds.min(1) });
export type AddMembersInput = z.infer<typeof AddMembersInput>;

/** Message text: non-empty, at most 16 KiB of UTF-8. */
export const MessageContent = Text.min(1).refine((s) => utf8Length(s) <= limits.maxContentBytes, {
  error: `content is longer than ${limits.maxContentBytes} bytes`,
});

export const SendMessageInput = z.object({
  roomId: Id,
  content: MessageContent,
  /** Chosen by the sender; a retry with the same id returns the stored message. */
  clientMessageId: Text.min(1).max(64),
  messageType: ContentType.optional(),
  replyToMessageId: Id.optional(),
  mediaUrl: wellFormed(z.url({ protocol: /^https?$/ }).max(2048)).optional(),
});
export type SendMessageInput = z.infer<typeof SendMessageInput>;

export const HistoryInput = z.object({
  roomId: Id,
  beforeMessageId: Id.optional(),
  limit: z.int().min(1).max(200).optional(),
});
export type HistoryInput = z.infer<typeof HistoryInput>;

export const MessageCursorInput = z.object({ roomId: Id, messageId: Id });
export type MessageCursorInput = z.infer<typeof MessageCursorInput>;

export const ReactInput = z.object({
  messageId: Id,
  emoji: Text.min(1).max(32),
  removed: z.boolean().optional(),
});
export type ReactInput = z.infer<typeof ReactInput>;

/** `chat.stream` input; tRPC clients fill `lastEventId` in by themselves on reconnect (a stream position: see the server's `stream-position.ts`). */
export const ChatStreamInput = z.object({ lastEventId: Text.max(16_384).nullish() }).optional();
export type ChatStreamInput = z.infer<typeof ChatStreamInput>;

const base = { conversationId: Id, timestamp: z.date() };

export const ChatStreamMessage = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('message'),
    ...base,
    messageId: Id,
    senderId: Id,
    senderName: z.string(),
    senderAvatarUrl: z.string().optional(),
    content: z.string(),
    messageType: ContentType,
    replyToMessageId: Id.optional(),
    mediaUrl: z.string().optional(),
    clientMessageId: z.string(),
    isCatchup: z.boolean().optional(),
    /** On the first message a resumed stream replays, when older missed ones were skipped: reload history. */
    gapBefore: z.boolean().optional(),
  }),
  z.object({ type: z.literal('typing'), ...base, senderId: Id, senderName: z.string(), isTyping: z.boolean() }),
  z.object({ type: z.literal('read'), ...base, senderId: Id, messageId: Id }),
  z.object({ type: z.literal('delivered'), ...base, senderId: Id, messageId: Id }),
  z.object({
    type: z.literal('reaction'),
    ...base,
    senderId: Id,
    messageId: Id,
    emoji: z.string(),
    removed: z.boolean(),
  }),
  z.object({ type: z.literal('presence'), ...base, senderId: Id, presenceStatus: PresenceStatus }),
]);
export type ChatStreamMessage = z.infer<typeof ChatStreamMessage>;

export const ChatClientStreamMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('typing'), roomId: Id, isTyping: z.boolean() }),
  z.object({ type: z.literal('subscription'), roomId: Id, subscribe: z.boolean() }),
]);
export type ChatClientStreamMessage = z.infer<typeof ChatClientStreamMessage>;
