import {
  PresenceBatch,
  PresenceUserIds,
  RoomPresence,
  RoomPresenceBatch,
  RoomPresenceInput,
  SetStatusInput,
  UserPresence,
  UserPresenceList,
} from '@streampod/protocol';
import { z } from 'zod';
import { sp } from './streampod.js';
import { allowedIds } from './allowed-ids.js';

/**
 * `presence.*`: who is online, on how many devices, since when not. A user may watch
 * themselves and the users they share a room with, nobody else.
 */
export class PresenceEndpoint extends sp.Endpoint {
  subscribeToPresence = this.subscription(
    {
      input: PresenceUserIds,
      output: PresenceBatch,
      description: 'A snapshot of every requested user, then batches of changes.',
    },
    async (session, { userIds }) => {
      // Read before the check: a room left while it runs makes `watch` check again.
      const checkedAt = session.services.presence.accessChanges;
      // Throws unless every id may be watched; the watch takes the same ids from the input.
      await allowedIds(session, userIds);
      await session.services.presence.watch(session, checkedAt);
    },
  );

  getPresence = this.query(
    { input: PresenceUserIds, output: UserPresenceList, description: 'The presence of each requested user, in order.' },
    async (session, { userIds }) => session.services.presence.getPresence(await allowedIds(session, userIds)),
  );

  setStatus = this.mutation(
    {
      input: SetStatusInput,
      output: UserPresence,
      description: '`away` or `busy` by hand, until set again or offline; `online` returns to automatic.',
    },
    (session, { status }) => session.services.presence.setStatus(session.userId, status),
  );

  subscribeToRoom = this.subscription(
    {
      input: RoomPresenceInput,
      output: RoomPresenceBatch,
      description:
        "Who of a room's members is here: a snapshot, then coalesced changes, joins and departures (counts only above the list limit). Members only; ends with FORBIDDEN when the caller leaves.",
    },
    (session) => session.services.roomPresence.watch(session, session.userId),
  );

  getRoomPresence = this.query(
    {
      input: RoomPresenceInput,
      output: RoomPresence,
      description: "A room's presence as one snapshot (members only).",
    },
    (session, { roomId }) => session.services.roomPresence.get({ userId: session.userId, roomId }),
  );

  heartbeat = this.mutation(
    { output: z.void(), description: 'Counts as activity: keeps an idle user from turning away.' },
    // The call itself is the activity (every authorized call is).
    () => undefined,
  );
}
