/**
 * The generic client runtime, `@streampod/client/runtime`: what a client generated for any
 * streampod app needs (calls, subscriptions, reconnect, resume), and nothing of the chat.
 */
export { createApiClient } from './client.js';
export type {
  ApiClient,
  ApiClientOptions,
  ApiManifest,
  ApiMethods,
  ClientConnection,
  ClientMethod,
  ConnectionState,
  Transformer,
} from './client.js';
export { Subscription } from './subscription.js';
export type { SubscriptionHandlers } from './subscription.js';
export type { CallProcedure, StreamProcedure } from './procedure-types.js';
export { jitteredBackoff } from './backoff.js';
export type { BackoffOptions } from './backoff.js';
export { codeOf, isFinal, toError, Retrier, PendingCallsFullError } from './errors.js';
export type { RetryOptions } from './errors.js';
export { RefCount, SharedByKey } from './shared.js';
export { subscriptionStore, connectionStateStore } from './live-state.js';
export type { ExternalStore, SubscriptionState, SubscriptionStatus } from './live-state.js';
