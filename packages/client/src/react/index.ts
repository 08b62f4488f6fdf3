/** React bindings: `@streampod/client/react`. */
export { StreampodProvider, useStreampodClient, usePresenceTracker } from './streampod-provider.js';
export type { StreampodProviderProps } from './streampod-provider.js';
export { usePresence } from './use-presence.js';
export type { PresenceView } from '../presence/presence-view.js';
export { useChatRoom } from './use-chat-room.js';
export type { ChatRoomState } from './use-chat-room.js';
export { useTyping } from './use-typing.js';
export type { TypingState } from './use-typing.js';
