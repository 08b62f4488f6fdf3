import { fail } from '@streampod/framework';
import type { ChatCallSession } from './streampod.js';

/** The requested ids without duplicates, once the caller may see every one of them. */
export async function allowedIds(session: ChatCallSession, userIds: readonly number[]): Promise<number[]> {
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
