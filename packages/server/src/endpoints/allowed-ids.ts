import { fail } from '@streampod/framework';
import { noSharedRoom, strangersOf } from '../presence/membership.js';
import type { ChatCallSession } from './streampod.js';
import { distinct } from '../util/distinct.js';

/** The requested ids without duplicates, once the caller may see every one of them. */
export async function allowedIds(session: ChatCallSession, userIds: readonly number[]): Promise<readonly number[]> {
  const ids = distinct(userIds);
  const strangers = await strangersOf(session.services.membership, session.userId, ids);
  if (strangers.length > 0) fail('FORBIDDEN', noSharedRoom(strangers));
  return ids;
}
