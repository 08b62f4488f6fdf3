export { PresenceTracker, trackerOf } from './presence-tracker.js';
export type { PresenceTarget, RoomPresenceWatch } from './presence-tracker.js';
export type { RoomPresenceView } from './watched-room.js';
export type { PresenceHandler, PresenceSource, PresenceTrackerOptions, OnPresenceOptions } from './presence-tracker.js';
export type { PresenceView, PresenceWatch } from './presence-view.js';
export { formatLastSeen } from './last-seen.js';
export type { FormatLastSeenOptions, LastSeenLabels } from './last-seen.js';
