/** The outcome of `TypingStore.expire`. */
export type TypingExpiry =
  /** It ended now, at this caller's hands: this caller tells everyone (with this version). */
  | { readonly state: 'expired'; readonly version: number }
  /** It was refreshed: it ends `remainingMs` from now, unless refreshed again. */
  | { readonly state: 'typing'; readonly remainingMs: number }
  /** It is not there: it ended already (someone else told everyone), or the store lost it. */
  | { readonly state: 'gone' };

/**
 * Who is typing where, shared by every node: a user typing in a room is one typer however
 * many devices and nodes they type from, and each start and each end happens once. Every
 * start and end gets a version (per room), so a receiver drops one that arrives after a
 * newer one. In memory for one process; Redis across nodes.
 */
export interface TypingStore {
  /** Starts typing for `ttlMs`, or pushes the end back; `started` when it was not typing. */
  start(input: { roomId: number; userId: number; ttlMs: number }): Promise<{ started: boolean; version: number }>;
  /** Ends typing; `stopped` when it was typing (then this caller tells everyone). */
  stop(input: { roomId: number; userId: number }): Promise<{ stopped: boolean; version: number }>;
  /** Called when a typing should have run out: ends it unless it was refreshed. */
  expire(input: { roomId: number; userId: number }): Promise<TypingExpiry>;
  /** The rooms the user is typing in. */
  roomsOf(userId: number): Promise<number[]>;
  close(): Promise<void>;
}
