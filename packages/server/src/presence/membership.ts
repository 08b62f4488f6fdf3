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
