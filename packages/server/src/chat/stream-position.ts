/**
 * Where a `chat.stream` is, and the tracked event id that carries it to the client.
 *
 * Every room has its own message order, `seq` (1, 2, 3…, taken under the room's row lock,
 * so a room commits in sequence order). A position says what the stream has delivered:
 *
 * - `base`, a message id: in every room not listed, exactly the messages with an id up to
 *   `base`. Ids grow with `seq` within a room (an insert takes its id after it has locked
 *   the room's counter; the id sequence hands ids out in order, `CACHE 1`), so that is a
 *   prefix of the room's order. It is exact because a base is only ever taken from a
 *   database snapshot in which none of the rooms it leaves unlisted has an insert in flight
 *   (see `MessageRepository.snapshot`): any message such a room gets later has a higher id.
 * - `rooms`, room → seq: in each listed room, exactly the messages up to that sequence
 *   number. A room joins the list when the stream delivers one of its messages; the list is
 *   folded back into a newer base now and then.
 *
 * Like Matrix's multi-writer stream tokens (`m{min}~{writer}.{pos}`), with rooms as the
 * writers and Discord's per-channel last-message ids as the listed part. A resume on any
 * node replays, per room, exactly the messages after the position (and never one from
 * before the user joined the room), so nothing is missed and nothing repeated; streams in
 * the same place hand out the same id.
 *
 * A position that lists every room its stream follows has base 0: the base would only
 * speak for rooms joined later, which a resume replays from the join point anyway. So
 * streams that opened at different moments converge on one id, and one frame per event.
 *
 * Encoding: `c` + base, then `_` + room + `.` + seq per listed room by room id, all in
 * base 36: `c2s_1.9_4.t` is base 100, room 1 up to seq 9, room 4 up to seq 29. A legacy id
 * (`"120"` or `"120~3"`, from before per-room order) reads as base 120.
 */
export interface StreamPosition {
  readonly base: number;
  readonly rooms: ReadonlyMap<number, number>;
}

/** Most rooms one id may list (a longer list is folded into a newer base first). */
export const MAX_LISTED_ROOMS = 1_000;

/** The tracked event id of a position. */
export function encodePosition(position: StreamPosition): string {
  let id = `c${position.base.toString(36)}`;
  const rooms = [...position.rooms].sort((a, b) => a[0] - b[0]);
  for (const [room, seq] of rooms) id += `_${room.toString(36)}.${seq.toString(36)}`;
  return id;
}

/** The position an id names, or undefined when it is not one this server hands out. */
export function decodePosition(id: string): StreamPosition | undefined {
  const legacy = /^(\d{1,15})(?:~\d{1,15})?$/.exec(id);
  if (legacy !== null) return { base: Number(legacy[1]), rooms: new Map() };
  if (!/^c[0-9a-z]{1,11}(?:_[0-9a-z]{1,7}\.[0-9a-z]{1,7})*$/.test(id)) return undefined;
  const [head, ...listed] = id.split('_');
  if (listed.length > MAX_LISTED_ROOMS) return undefined;
  const base = parseInt(head!.slice(1), 36);
  const rooms = new Map<number, number>();
  for (const entry of listed) {
    const [room, seq] = entry.split('.');
    const roomId = parseInt(room!, 36);
    if (rooms.has(roomId)) return undefined;
    rooms.set(roomId, parseInt(seq!, 36));
  }
  if (!Number.isSafeInteger(base)) return undefined;
  return { base, rooms };
}
