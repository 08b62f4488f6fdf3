import { PresenceBatch, PresenceUserIds, SetStatusInput, UserPresence, UserPresenceList } from '@streampod/protocol';
import { z } from 'zod';
import { fail } from '@streampod/framework';
import { sp, type ChatCallSession } from './streampod.js';

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
      const ids = await allowedIds(session, userIds);
      await session.services.presence.watch(session, ids);
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

  heartbeat = this.mutation(
    { output: z.void(), description: 'Counts as activity: keeps an idle user from turning away.' },
    // The call itself is the activity (every authorized call is).
    () => undefined,
  );
}

/** The requested ids without duplicates, once the caller may see every one of them. */
async function allowedIds(session: ChatCallSession, userIds: readonly number[]): Promise<number[]> {
  const me = session.userId;
  const ids = [...new Set(userIds)];
  const others = ids.filter((id) => id !== me);
  if (others.length === 0) return ids;
  const shared = await session.services.membership.sharedWith(me, others);
  const strangers = others.filter((id) => !shared.has(id));
  if (strangers.length > 0) {
    const shown = strangers.slice(0, 10).join(', ') + (strangers.length > 10 ? ', …' : '');
    fail('FORBIDDEN', `userIds: you share no room with ${shown}`);
  }
  return ids;
}
