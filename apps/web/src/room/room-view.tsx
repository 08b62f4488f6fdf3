import type { ChatMessage, ChatRoom } from '@streampod/client';
import { useChatRoom, usePresence, useTyping } from '@streampod/client/react';
import { useCallback, useMemo, useState, type ReactElement } from 'react';
import { MemberList } from '../members/member-list';
import { AddPeopleDialog } from '../rooms/add-people-dialog';
import { LeaveRoomDialog } from '../rooms/leave-room-dialog';
import { useSession } from '../session/session-context';
import { nameOf, useUsers } from '../users/use-users';
import { Composer } from './composer';
import { MessageLog, type MessageActions } from './message-log';
import { RoomHeader } from './room-header';
import { TypingLine } from './typing-line';
import { useMarkRead } from './use-mark-read';
import { useOlderMessages } from './use-older-messages';

/** One open room: header, messages, who is typing, the message box, and its members beside. */
export function RoomView(props: {
  room: ChatRoom;
  /** The room's membership or read state changed: the room list should ask again. */
  onRoomChanged: () => void;
  onLeft: () => void;
}): ReactElement {
  const { room, onRoomChanged } = props;
  const { client, me, directory } = useSession();
  const chat = useChatRoom(room.id);
  const typing = useTyping(room.id);
  const presence = usePresence({ roomId: room.id });
  const history = useOlderMessages(room.id, chat.messages, chat.isLoading);
  const [replyTo, setReplyTo] = useState<ChatMessage | null>(null);
  const [dialog, setDialog] = useState<'add' | 'leave' | null>(null);

  const members = useMemo(() => Object.values(presence.presences), [presence.presences]);
  const memberIds = useMemo(
    () => (presence.listed && members.length > 0 ? members.map((p) => p.userId) : room.memberIds),
    [presence.listed, members, room.memberIds],
  );
  const users = useUsers(directory, memberIds);
  const names = useCallback((userId: number) => nameOf(users, userId), [users]);

  useMarkRead(chat.messages.at(-1)?.id, chat.markRead, onRoomChanged);

  const actions = useMemo<MessageActions>(
    () => ({
      reply: setReplyTo,
      react: (messageId, emoji, removed) =>
        void client.chat.react({ messageId, emoji, removed }).catch(() => undefined),
      retry: (clientMessageId) => void chat.retry(clientMessageId),
    }),
    [client, chat.retry],
  );

  const send = (content: string) => {
    void chat.send(content, replyTo === null ? {} : { replyToMessageId: replyTo.id });
    setReplyTo(null);
  };

  return (
    <>
      <main className="room" aria-labelledby="room-title">
        <RoomHeader
          room={room}
          online={presence.isLoading ? undefined : presence.userCount}
          members={presence.isLoading ? undefined : presence.memberCount}
          onAddPeople={() => setDialog('add')}
          onLeave={() => setDialog('leave')}
        />
        <MessageLog roomName={room.name} chat={chat} history={history} me={me.id} names={names} actions={actions} />
        <TypingLine names={typing.typingNames} />
        <Composer
          roomName={room.name}
          replyTo={replyTo === null ? null : { message: replyTo, senderName: names(replyTo.senderId) }}
          onCancelReply={() => setReplyTo(null)}
          onSend={send}
          onTyping={typing.startTyping}
          onStopTyping={typing.stopTyping}
        />
      </main>
      <MemberList
        members={members}
        listed={presence.listed}
        memberCount={presence.memberCount}
        loading={presence.isLoading}
        error={presence.error}
        users={users}
        me={me.id}
      />
      {dialog === 'add' && (
        <AddPeopleDialog
          room={room}
          onClose={() => setDialog(null)}
          onAdded={() => {
            setDialog(null);
            onRoomChanged();
          }}
        />
      )}
      {dialog === 'leave' && <LeaveRoomDialog room={room} onClose={() => setDialog(null)} onLeft={props.onLeft} />}
    </>
  );
}
