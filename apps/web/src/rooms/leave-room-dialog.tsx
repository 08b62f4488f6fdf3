import type { ChatRoom } from '@streampod/client';
import { useState, type ReactElement } from 'react';
import { describeError } from '../session/errors';
import { useSession } from '../session/session-context';
import { Dialog } from '../ui/dialog';

/** Asks before leaving: a room left cannot be rejoined without someone adding you back. */
export function LeaveRoomDialog(props: { room: ChatRoom; onClose: () => void; onLeft: () => void }): ReactElement {
  const { client } = useSession();
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const leave = async () => {
    setBusy(true);
    setError('');
    try {
      await client.chat.leaveRoom({ roomId: props.room.id });
      props.onLeft();
    } catch (reason) {
      setError(describeError(reason));
      setBusy(false);
    }
  };
  return (
    <Dialog title={`Leave ${props.room.name}?`} onClose={props.onClose}>
      <p>You will stop getting its messages. Someone in the room can add you back.</p>
      <p className="form-error" role="alert">
        {error}
      </p>
      <div className="dialog-actions">
        <button type="button" onClick={props.onClose} autoFocus>
          Cancel
        </button>
        <button type="button" className="danger" disabled={busy} onClick={() => void leave()}>
          Leave
        </button>
      </div>
    </Dialog>
  );
}
