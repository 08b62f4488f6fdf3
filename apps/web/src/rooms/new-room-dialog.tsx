import type { ChatRoom } from '@streampod/client';
import { useState, type FormEvent, type ReactElement } from 'react';
import { describeError } from '../session/errors';
import { useSession } from '../session/session-context';
import { Dialog } from '../ui/dialog';
import { fieldText } from '../ui/form-field';
import { findPeople, parseUsernames } from './find-people';
import { DialogFooter, PeopleField } from './people-form';

/** "New room": a name, and the people to add by username. */
export function NewRoomDialog(props: { onClose: () => void; onCreated: (room: ChatRoom) => void }): ReactElement {
  const { client, me } = useSession();
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const name = fieldText(event.currentTarget, 'name').trim();
    const usernames = parseUsernames(fieldText(event.currentTarget, 'people'));
    if (name === '') {
      setError('Give the room a name.');
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
      const memberIds = people.users.map((user) => user.id).filter((id) => id !== me.id);
      props.onCreated(await client.chat.createRoom({ name, memberIds }));
    } catch (reason) {
      setError(describeError(reason));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog title="New room" onClose={props.onClose}>
      <form className="dialog-form" onSubmit={(event) => void submit(event)} noValidate>
        <label className="field">
          <span className="field-label">Room name</span>
          <input name="name" autoComplete="off" maxLength={100} required autoFocus />
        </label>
        <PeopleField hint="Usernames, separated by commas or spaces. You can add more people later." />
        <DialogFooter error={error} busy={busy} submit="Create" onCancel={props.onClose} />
      </form>
    </Dialog>
  );
}
