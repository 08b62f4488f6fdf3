/** React bindings: `@streampod/client/react`. */
export { StreampodProvider, useStreampodClient, usePresenceTracker } from './streampod-provider.js';
export type { StreampodProviderProps } from './streampod-provider.js';
export { usePresence } from './use-presence.js';
export type { PresenceView } from '../presence/presence-view.js';
