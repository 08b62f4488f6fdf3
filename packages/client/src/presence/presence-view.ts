import type { UserPresence } from '@streampod/protocol';

/**
 * What a hook shows for one set of watched users. A new object only when something in it
 * changed, so `useSyncExternalStore` and Vue refs re-render only then.
 */
export interface PresenceView {
  /** The current presence of each watched user, by id; empty until the snapshot arrives. */
  readonly presences: Readonly<Record<number, UserPresence>>;
  /** True until the first snapshot (or an error) arrives. */
  readonly isLoading: boolean;
  /** Why the presence stream failed (e.g. FORBIDDEN: no shared room); it is over then. */
  readonly error: Error | null;
}

/**
 * A subscribe/getSnapshot pair for one id set: the shape framework hooks build on. Both
 * are plain functions, safe to pass around detached (`useSyncExternalStore` does).
 */
export interface PresenceWatch {
  /** The watched ids, sorted and de-duplicated. */
  readonly userIds: readonly number[];
  /** Starts (or joins) the id set's subscription; `listener` runs whenever the view changes. */
  readonly subscribe: (listener: () => void) => () => void;
  /** The current view; the same object as long as nothing changed. */
  readonly getSnapshot: () => PresenceView;
}

const noPresences: Readonly<Record<number, UserPresence>> = Object.freeze({});

/** Before the snapshot: shared, so a fresh watch does not look like a change. */
export const loadingView: PresenceView = Object.freeze({ presences: noPresences, isLoading: true, error: null });

/** Watching nobody: nothing to load. */
export const emptyView: PresenceView = Object.freeze({ presences: noPresences, isLoading: false, error: null });

/** The ids as one subscription key: sorted and de-duplicated, so `[2, 1, 2]` and `[1, 2]` share one. */
export function normalizeIds(userIds: readonly number[]): number[] {
  return [...new Set(userIds)].sort((a, b) => a - b);
}
