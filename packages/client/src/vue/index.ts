/** Vue 3 bindings: `@streampod/client/vue`. */
export { provideStreampod, createStreampod, useStreampodClient } from './streampod-plugin.js';
export type { StreampodContext, StreampodPlugin, StreampodProvideOptions } from './streampod-plugin.js';
// Any streampod app.
export { useSubscription, useConnectionState } from './use-subscription.js';
export type { UseSubscriptionResult } from './use-subscription.js';
export type { SubscriptionStatus } from '../runtime/live-state.js';
export type { ConnectionState } from '../runtime/client.js';
// The chat server's presence and rooms.
export { usePresence, usePresenceTracker } from './use-presence.js';
export type { UsePresenceResult, UseRoomPresenceResult } from './use-presence.js';
export type { RoomPresenceView } from '../presence/watched-room.js';
export { useChatRoom, useTyping } from './use-chat-room.js';
export type { UseChatRoomResult, UseTypingResult } from './use-chat-room.js';
