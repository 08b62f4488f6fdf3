import { z } from 'zod';
import { Id, idList } from './common.js';
import { limits } from './limits.js';

export const PresenceStatus = z.enum(['online', 'away', 'busy', 'offline']);
export type PresenceStatus = z.infer<typeof PresenceStatus>;

/** A user's presence, rolled up over all of their devices. */
export const UserPresence = z.object({
  userId: Id,
  status: PresenceStatus,
  lastSeen: z.date().nullable(),
  /** Live authenticated connections; 0 when offline. */
  devices: z.int().nonnegative(),
});
export type UserPresence = z.infer<typeof UserPresence>;

/** What a presence shows a person of a user: all of it but whose it is. */
export type ShownPresence = Pick<UserPresence, 'status' | 'devices' | 'lastSeen'>;

/** Whether two presences show a person the same thing (status, devices, last seen); `undefined` is nothing shown yet. */
export function samePresence(a: ShownPresence | undefined, b: ShownPresence): boolean {
  return (
    a !== undefined &&
    a.status === b.status &&
    a.devices === b.devices &&
    (a.lastSeen?.getTime() ?? null) === (b.lastSeen?.getTime() ?? null)
  );
}

export const UserPresenceList = z.array(UserPresence);
export type UserPresenceList = z.infer<typeof UserPresenceList>;

/** One entry of a presence batch: a user's presence as it is now. A schema of its own, so types keep their names. */
export const PresenceUpdate = UserPresence.describe("A user's presence as it is now (in a snapshot) or as it changed.");
export type PresenceUpdate = UserPresence;

/** The first batch of a subscription has `snapshot: true` and every requested user. */
export const PresenceBatch = z.object({
  snapshot: z.boolean(),
  updates: z.array(PresenceUpdate),
});
export type PresenceBatch = z.infer<typeof PresenceBatch>;

export const PresenceUserIds = z.object({ userIds: idList(limits.maxPresenceIds) });
export type PresenceUserIds = z.infer<typeof PresenceUserIds>;

/** Statuses a user may set by hand; `offline` only comes from having no connection. */
export const SetStatusInput = z.object({ status: z.enum(['online', 'away', 'busy']) });
export type SetStatusInput = z.infer<typeof SetStatusInput>;

/** A room of the caller's, by id (`presence.subscribeToRoom`, `presence.getRoomPresence`). */
export const RoomPresenceInput = z.object({ roomId: Id });
export type RoomPresenceInput = z.infer<typeof RoomPresenceInput>;

/**
 * Who is in a room (v1.1). `onlineCount` counts members not `offline`. While `listed`
 * (`memberCount` at most the server's `ROOM_PRESENCE_LIST_LIMIT`), `members` holds every
 * member; above it, `members` is empty and only the counts tell.
 */
export const RoomPresence = z.object({
  roomId: Id,
  memberCount: z.int().nonnegative(),
  onlineCount: z.int().nonnegative(),
  listed: z.boolean(),
  members: z.array(PresenceUpdate),
});
export type RoomPresence = z.infer<typeof RoomPresence>;

/**
 * A batch of `presence.subscribeToRoom` (v1.1): first a snapshot (`updates` holds every
 * member while listed), then coalesced changes: members whose presence changed or who
 * joined in `updates`, members who left in `left`. `listed` says whether `updates` names
 * members at all (false above the list limit: counts only).
 */
export const RoomPresenceBatch = z.object({
  roomId: Id,
  snapshot: z.boolean(),
  memberCount: z.int().nonnegative(),
  onlineCount: z.int().nonnegative(),
  listed: z.boolean().optional(),
  updates: z.array(PresenceUpdate),
  left: z.array(Id),
});
export type RoomPresenceBatch = z.infer<typeof RoomPresenceBatch>;
