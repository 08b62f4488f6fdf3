import type { ChatRoom } from '@streampod/client';
import { useState, type FormEvent, type ReactElement } from 'react';
import { describeError } from '../session/errors';
import { useSession } from '../session/session-context';
import { Dialog } from '../ui/dialog';
import { fieldText } from '../ui/form-field';
import { findPeople, parseUsernames } from './find-people';
import { DialogFooter, PeopleField } from './people-form';

/** "Add people" to an open room, by username. */
export function AddPeopleDialog(props: { room: ChatRoom; onClose: () => void; onAdded: () => void }): ReactElement {
  const { client } = useSession();
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

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
        <PeopleField hint="Usernames, separated by commas or spaces." autoFocus />
        <DialogFooter error={error} busy={busy} submit="Add" onCancel={props.onClose} />
      </form>
    </Dialog>
  );
}
