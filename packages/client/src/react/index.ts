/** React bindings: `@streampod/client/react`. */
export { StreampodProvider, useStreampodClient } from './streampod-provider.js';
export type { StreampodProviderProps } from './streampod-provider.js';
// Any streampod app.
export { useSubscription, useConnectionState } from './use-subscription.js';
export type { UseSubscriptionOptions } from './use-subscription.js';
export type { SubscriptionState, SubscriptionStatus } from '../runtime/live-state.js';
export type { ConnectionState } from '../runtime/client.js';
// The chat server's presence and rooms.
export { usePresence, usePresenceTracker } from './use-presence.js';
export type { PresenceView } from '../presence/presence-view.js';
export type { RoomPresenceView } from '../presence/watched-room.js';
export { useChatRoom } from './use-chat-room.js';
export type { ChatRoomState } from './use-chat-room.js';
export { useTyping } from './use-typing.js';
export type { TypingState } from './use-typing.js';
