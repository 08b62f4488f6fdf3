export { createStreampodClient, createApiClient } from './client.js';
export type { StreampodClient, StreampodClientOptions, ApiClient, ClientMethod } from './client.js';
export { Subscription } from './subscription.js';
export type { SubscriptionHandlers } from './subscription.js';
export { jitteredBackoff } from './backoff.js';
export type { BackoffOptions } from './backoff.js';
export type { StreampodApi } from './generated/api.js';
export { apiManifest } from './generated/api.js';
export type { CallProcedure, StreamProcedure } from './procedure-types.js';
export { PresenceTracker, formatLastSeen } from './presence/index.js';
export type {
  PresenceHandler,
  PresenceSource,
  PresenceTrackerOptions,
  OnPresenceOptions,
  PresenceView,
  PresenceWatch,
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
