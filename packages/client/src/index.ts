// The chat server's client: its generated surface, presence and chat helpers.
export { createStreampodClient } from './client.js';
export type { StreampodClient, StreampodClientOptions } from './client.js';
export type { StreampodApi } from './generated/api.js';
export { apiManifest } from './generated/api.js';
// The generic runtime it is built on (also at `@streampod/client/runtime`).
export { createApiClient, Subscription, jitteredBackoff, PendingCallsFullError } from './runtime/index.js';
export type {
  ApiClient,
  ApiClientOptions,
  ApiMethods,
  ClientMethod,
  ConnectionState,
  SubscriptionHandlers,
  BackoffOptions,
  CallProcedure,
  StreamProcedure,
} from './runtime/index.js';
export { RefreshingToken } from './auth/refreshing-token.js';
export type { RefreshClient, RefreshingTokenOptions } from './auth/refreshing-token.js';
export { PresenceTracker, trackerOf, formatLastSeen } from './presence/index.js';
export type {
  PresenceHandler,
  PresenceSource,
  PresenceTrackerOptions,
  OnPresenceOptions,
  PresenceView,
  PresenceWatch,
  PresenceTarget,
  RoomPresenceView,
  RoomPresenceWatch,
  FormatLastSeenOptions,
  LastSeenLabels,
} from './presence/index.js';
export {
  ChatRoomView,
  ChatStreamHub,
  createChatRoom,
  createTypingNotifier,
  formatTyping,
  getChatStreamHub,
  watchChatRoom,
} from './chat/index.js';
export type {
  ChatClient,
  ChatRoomOptions,
  ChatRoomSnapshot,
  ChatRoomWatch,
  FormatTypingOptions,
  MessageReactions,
  PendingMessage,
  Receipt,
  RoomStreamListener,
  SendOptions,
  SendRetryOptions,
  TypingLabels,
  TypingNotifier,
  TypingNotifierOptions,
} from './chat/index.js';
export type * from '@streampod/protocol';
