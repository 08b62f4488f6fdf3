import type { ChatRoom } from '@streampod/client';
import type { ReactElement } from 'react';

/** The room's name, how many of its members are here, and what can be done to the room. */
export function RoomHeader(props: {
  room: ChatRoom;
  online: number | undefined;
  members: number | undefined;
  onAddPeople: () => void;
  onLeave: () => void;
}): ReactElement {
  const { online, members } = props;
  return (
    <header className="room-header">
      <div>
        <h1 id="room-title" className="room-title">
          <span aria-hidden="true"># </span>
          {props.room.name}
        </h1>
        {online !== undefined && members !== undefined && (
          <p className="room-counts">
            <span className="dot dot-online" aria-hidden="true" />
            {online} online
            <span aria-hidden="true"> · </span>
            <span className="sr-only">, </span>
            {members === 1 ? '1 member' : `${members} members`}
          </p>
        )}
      </div>
      <div className="room-actions">
        <button type="button" onClick={props.onAddPeople}>
          Add people
        </button>
        <button type="button" onClick={props.onLeave}>
          Leave room
        </button>
      </div>
    </header>
  );
}
