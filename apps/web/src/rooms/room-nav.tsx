import type { ChatRoom } from '@streampod/client';
import type { MouseEvent, ReactElement } from 'react';
import { roomPath } from '../routing/use-room-route';

/**
 * The "Rooms" navigation: one link per room, named by the room's name alone (the unread count
 * is its description), so "General" finds the General room however many messages wait there.
 */
export function RoomNav(props: {
  rooms: readonly ChatRoom[] | null;
  openRoomId: number | null;
  error: string | null;
  onOpen: (roomId: number) => void;
  onNewRoom: () => void;
}): ReactElement {
  const { rooms, openRoomId } = props;
  return (
    <nav className="room-nav" aria-labelledby="rooms-heading">
      <div className="room-nav-head">
        <h2 id="rooms-heading">Rooms</h2>
        <button type="button" className="ghost-on-dark" onClick={props.onNewRoom}>
          New room
        </button>
      </div>
      {props.error !== null && <p className="sidebar-note">{props.error}</p>}
      {rooms === null ? (
        <p className="sidebar-note">Loading…</p>
      ) : rooms.length === 0 ? (
        <p className="sidebar-note">No rooms yet. Make one with “New room”.</p>
      ) : (
        <ul className="room-list">
          {rooms.map((room) => (
            <RoomLink key={room.id} room={room} open={room.id === openRoomId} onOpen={props.onOpen} />
          ))}
        </ul>
      )}
    </nav>
  );
}

function RoomLink(props: { room: ChatRoom; open: boolean; onOpen: (roomId: number) => void }): ReactElement {
  const { room, open } = props;
  const unread = room.unreadCount ?? 0;
  const unreadId = `unread-${room.id}`;
  const follow = (event: MouseEvent<HTMLAnchorElement>) => {
    // Let the browser open new tabs and windows; plain clicks stay in the app.
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    props.onOpen(room.id);
  };
  return (
    <li>
      <a
        href={roomPath(room.id)}
        className={`room-link${unread > 0 ? ' has-unread' : ''}`}
        aria-current={open ? 'page' : undefined}
        aria-describedby={unread > 0 ? unreadId : undefined}
        onClick={follow}
      >
        <span className="room-hash" aria-hidden="true">
          #
        </span>
        <span className="room-name">{room.name}</span>
        {unread > 0 && (
          <span className="badge" aria-hidden="true">
            {unread > 99 ? '99+' : unread}
          </span>
        )}
      </a>
      {unread > 0 && (
        <span id={unreadId} className="sr-only">
          {unread === 1 ? '1 unread message' : `${unread} unread messages`}
        </span>
      )}
    </li>
  );
}
