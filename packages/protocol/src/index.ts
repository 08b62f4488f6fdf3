export { limits, utf8Length } from './limits.js';
export { Id, idList, Text, wellFormed } from './common.js';
export {
  ChatUser,
  ChatUserList,
  ChangePasswordInput,
  GetUsersInput,
  FindUsersInput,
  Username,
  Password,
  RegisterInput,
  LoginInput,
  RefreshInput,
  AuthResult,
} from './user.js';
export {
  PresenceStatus,
  UserPresence,
  samePresence,
  type ShownPresence,
  UserPresenceList,
  PresenceUpdate,
  PresenceBatch,
  PresenceUserIds,
  SetStatusInput,
  RoomPresenceInput,
  RoomPresence,
  RoomPresenceBatch,
} from './presence.js';
export {
  ChatMessageType,
  ContentType,
  ChatRoom,
  ChatMessage,
  ChatMessageList,
  ChatRoomList,
  CreateRoomInput,
  AddMembersInput,
  LeaveRoomInput,
  RoomReceipt,
  RoomReceiptList,
  RoomIdInput,
  MessageContent,
  SendMessageInput,
  HistoryInput,
  MessageCursorInput,
  ReactInput,
  ChatStreamInput,
  ChatStreamMessage,
  ChatClientStreamMessage,
} from './chat.js';
export { messageEventOf, messageOfEvent } from './chat-mapping.js';
export type { ChatMessageEvent } from './chat-mapping.js';
export { transformer } from './transformer.js';
export type { input as Input, output as Output, ZodType as Schema } from 'zod';
