import type { ChatRoom } from '@streampod/client';
import { useEffect, useState, type ReactElement } from 'react';
import { AccountPanel } from '../account/account-panel';
import { RoomView } from '../room/room-view';
import { NewRoomDialog } from '../rooms/new-room-dialog';
import { RoomNav } from '../rooms/room-nav';
import { useRoomList } from '../rooms/use-room-list';
import { useSession } from '../session/session-context';
import { ConnectionBanner } from './connection-banner';
import { useRoomRoute } from '../routing/use-room-route';

/** The signed-in screen: rooms on the left, the open room in the middle, its members on the right. */
export function ChatShell(): ReactElement {
  const session = useSession();
  const [roomId, navigate] = useRoomRoute();
  const { rooms, error, refresh, added, removed } = useRoomList(session, roomId);
  const [creating, setCreating] = useState(false);
  const room = rooms?.find((candidate) => candidate.id === roomId);

  // No room in the address: open the first one, as a chat app does.
  const first = rooms?.[0]?.id;
  useEffect(() => {
    if (roomId === null && first !== undefined) navigate(first, { replace: true });
  }, [roomId, first, navigate]);

  useUnreadTitle(rooms, room);

  return (
    <div className="shell">
      <a className="skip-link" href="#composer">
        Skip to message box
      </a>
      <ConnectionBanner />
      <div className="sidebar">
        <p className="workspace">
          <span className="logo" aria-hidden="true" />
          streampod
        </p>
        <RoomNav
          rooms={rooms}
          openRoomId={roomId}
          error={error}
          onOpen={navigate}
          onNewRoom={() => setCreating(true)}
        />
        <AccountPanel />
      </div>
      {room !== undefined ? (
        <RoomView
          key={room.id}
          room={room}
          onRoomChanged={refresh}
          onLeft={() => {
            removed(room.id);
            navigate(null);
          }}
        />
      ) : (
        <main className="room room-empty" aria-labelledby="room-title">
          <h1 id="room-title">{rooms === null ? 'Loading…' : roomId === null ? 'No room open' : 'Room not found'}</h1>
          {rooms !== null && (
            <p>
              {rooms.length === 0
                ? 'Start a conversation: make a room with “New room” and add people by username.'
                : 'Pick a room from the list.'}
            </p>
          )}
        </main>
      )}
      {creating && (
        <NewRoomDialog
          onClose={() => setCreating(false)}
          onCreated={(created) => {
            setCreating(false);
            added(created);
            navigate(created.id);
          }}
        />
      )}
    </div>
  );
}

/** "(3) General · streampod": the unread total and the open room in the tab's title. */
function useUnreadTitle(rooms: readonly ChatRoom[] | null, open: ChatRoom | undefined): void {
  const unread = rooms?.reduce((sum, room) => sum + (room.unreadCount ?? 0), 0) ?? 0;
  const name = open?.name;
  useEffect(() => {
    const base = name === undefined ? 'streampod chat' : `${name} · streampod`;
    document.title = unread > 0 ? `(${unread}) ${base}` : base;
  }, [unread, name]);
}
