/** Vue 3 bindings: `@streampod/client/vue`. */
export { provideStreampod, createStreampod, useStreampodClient, usePresenceTracker } from './streampod-plugin.js';
export type { StreampodContext, StreampodPlugin, StreampodProvideOptions } from './streampod-plugin.js';
export { usePresence } from './use-presence.js';
export type { UsePresenceResult } from './use-presence.js';
