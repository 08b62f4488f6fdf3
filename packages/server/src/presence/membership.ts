/**
 * Who may see whose presence: users who share a room. The chat rooms implement it; until
 * a room exists, nobody shares one (everyone may still watch themselves).
 */
export interface Membership {
  /** Of `userIds`, the ones `viewerId` shares at least one room with. */
  sharedWith(viewerId: number, userIds: readonly number[]): Promise<ReadonlySet<number>>;
}

/** No rooms at all: each user may watch only themselves. */
export const noRooms: Membership = {
  sharedWith: () => Promise.resolve(new Set<number>()),
};

/**
 * Of `userIds`, those other than `viewerId` that the viewer shares no room with: who may not
 * be watched. One query; none when the viewer asks only about themselves.
 */
export async function strangersOf(
  membership: Membership,
  viewerId: number,
  userIds: readonly number[],
): Promise<number[]> {
  const others = userIds.filter((id) => id !== viewerId);
  if (others.length === 0) return [];
  const shared = await membership.sharedWith(viewerId, others);
  return others.filter((id) => !shared.has(id));
}

/** The FORBIDDEN message naming the strangers (the first ten). */
export function noSharedRoom(strangers: readonly number[]): string {
  const shown = strangers.slice(0, 10).join(', ') + (strangers.length > 10 ? ', …' : '');
  return `userIds: you share no room with ${shown}`;
}
