import {
  AddMembersInput,
  ChatClientStreamMessage,
  ChatMessage,
  ChatMessageList,
  ChatRoom,
  ChatRoomList,
  ChatStreamInput,
  ChatStreamMessage,
  CreateRoomInput,
  HistoryInput,
  LeaveRoomInput,
  MessageCursorInput,
  ReactInput,
  RoomIdInput,
  RoomReceiptList,
  SendMessageInput,
} from '@streampod/protocol';
import { z } from 'zod';
import { sp } from './streampod.js';

/**
 * `chat.*`: rooms, stored messages, receipts, reactions, and `chat.stream`, the endpoint
 * stream that follows every room of the user with typing, mute and gap-free catch-up.
 */
export class ChatEndpoint extends sp.Endpoint {
  stream = this.endpointStream({
    input: ChatStreamInput,
    message: ChatClientStreamMessage,
    event: ChatStreamMessage,
    tracked: true,
    description: 'Events of every room of the caller; resume with lastEventId to replay what was missed.',
    messageDescription: "Typing (from any connection) or muting a room (on this connection's open `chat.stream`s).",
    streamOpened: (session) => session.services.chat.openStream(session, session.userId),
    // Typing is the user's: it works from any call, with or without a stream on this
    // connection; a mute acts on every chat stream of the connection.
    handleStreamMessage: (session, message) =>
      session.services.chat.handleStreamMessage({ streams: session.streams, userId: session.userId }, message),
  });

  createRoom = this.mutation(
    { input: CreateRoomInput, output: ChatRoom, description: 'Creates a room; the caller is a member.' },
    (session, input) => session.services.chat.createRoom(session.userId, input),
  );

  addMembers = this.mutation(
    {
      input: AddMembersInput,
      output: ChatRoom,
      description: 'Adds members; their open streams follow the room at once.',
    },
    (session, input) => session.services.chat.addMembers(session.userId, input),
  );

  leaveRoom = this.mutation(
    {
      input: LeaveRoomInput,
      output: z.void(),
      description:
        "Leaves a room at once: the caller's streams stop carrying it, their typing there ends, watches it allowed end with FORBIDDEN.",
    },
    (session, input) => session.services.chat.leaveRoom(session.userId, input),
  );

  listRooms = this.query(
    { output: ChatRoomList, description: "The caller's rooms, with their unread counts." },
    (session) => session.services.chat.listRooms(session.userId),
  );

  sendMessage = this.mutation(
    {
      input: SendMessageInput,
      output: ChatMessage,
      description: 'Stores, then broadcasts; the same clientMessageId again returns the stored message.',
    },
    (session, input) => session.services.chat.sendMessage(session.userId, input),
  );

  history = this.query(
    { input: HistoryInput, output: ChatMessageList, description: 'A page of a room, newest last.' },
    (session, input) => session.services.chat.history(session.userId, input),
  );

  receipts = this.query(
    {
      input: RoomIdInput,
      output: RoomReceiptList,
      description: 'How far each member has read and received the room (read and delivered ticks after a reload).',
    },
    (session, input) => session.services.chat.receipts(session.userId, input),
  );

  markDelivered = this.mutation(
    { input: MessageCursorInput, output: z.void(), description: 'Delivered up to and including messageId.' },
    (session, input) => session.services.chat.markCursor(session.userId, { ...input, kind: 'delivered' }),
  );

  markRead = this.mutation(
    { input: MessageCursorInput, output: z.void(), description: 'Read up to and including messageId.' },
    (session, input) => session.services.chat.markCursor(session.userId, { ...input, kind: 'read' }),
  );

  react = this.mutation(
    { input: ReactInput, output: z.void(), description: 'Adds (or with removed, removes) a reaction.' },
    (session, input) => session.services.chat.react(session.userId, input),
  );
}
