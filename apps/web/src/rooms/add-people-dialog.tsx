import type { ChatRoom } from '@streampod/client';
import { useId, useState, type FormEvent, type ReactElement } from 'react';
import { describeError } from '../session/errors';
import { useSession } from '../session/session-context';
import { Dialog } from '../ui/dialog';
import { fieldText } from '../ui/form-field';
import { findPeople, parseUsernames } from './find-people';

/** "Add people" to an open room, by username. */
export function AddPeopleDialog(props: { room: ChatRoom; onClose: () => void; onAdded: () => void }): ReactElement {
  const { client } = useSession();
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const hintId = useId();

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const usernames = parseUsernames(fieldText(event.currentTarget, 'people'));
    if (usernames.length === 0) {
      setError('Enter at least one username.');
      return;
    }
    setBusy(true);
    setError('');
    try {
      const people = await findPeople(client, usernames);
      if (!people.ok) {
        setError(people.message);
        return;
      }
      await client.chat.addMembers({ roomId: props.room.id, userIds: people.users.map((user) => user.id) });
      props.onAdded();
    } catch (reason) {
      setError(describeError(reason));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog title={`Add people to ${props.room.name}`} onClose={props.onClose}>
      <form className="dialog-form" onSubmit={(event) => void submit(event)} noValidate>
        <label className="field">
          <span className="field-label">People</span>
          <input name="people" autoComplete="off" aria-describedby={hintId} placeholder="alice, bob" autoFocus />
        </label>
        <p id={hintId} className="field-hint">
          Usernames, separated by commas or spaces.
        </p>
        <p className="form-error" role="alert">
          {error}
        </p>
        <div className="dialog-actions">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy}>
            Add
          </button>
        </div>
      </form>
    </Dialog>
  );
}
