import type { ChatMessage, ChatStreamMessage } from './chat.js';

/** The `message` variant of `ChatStreamMessage`. */
export type ChatMessageEvent = Extract<ChatStreamMessage, { type: 'message' }>;

/**
 * The `message` event announcing a stored message: the server's side of the mapping whose
 * inverse is `messageOfEvent`. The event's timestamp is the message's `createdAt`.
 */
export function messageEventOf(
  message: ChatMessage,
  sender: { readonly name: string; readonly avatarUrl: string | undefined },
): ChatMessageEvent {
  return {
    type: 'message',
    conversationId: message.chatRoomId,
    timestamp: message.createdAt,
    messageId: message.id,
    senderId: message.senderId,
    senderName: sender.name,
    ...(sender.avatarUrl === undefined ? {} : { senderAvatarUrl: sender.avatarUrl }),
    content: message.content,
    messageType: message.messageType,
    ...(message.replyToMessageId === undefined ? {} : { replyToMessageId: message.replyToMessageId }),
    ...(message.mediaUrl === undefined ? {} : { mediaUrl: message.mediaUrl }),
    clientMessageId: message.clientMessageId,
  };
}

/** The stored message a `message` event announces: the client's side of the mapping. */
export function messageOfEvent(event: ChatMessageEvent): ChatMessage {
  return {
    id: event.messageId,
    chatRoomId: event.conversationId,
    senderId: event.senderId,
    content: event.content,
    messageType: event.messageType,
    ...(event.replyToMessageId === undefined ? {} : { replyToMessageId: event.replyToMessageId }),
    ...(event.mediaUrl === undefined ? {} : { mediaUrl: event.mediaUrl }),
    clientMessageId: event.clientMessageId,
    createdAt: event.timestamp,
  };
}
