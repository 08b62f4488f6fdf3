import { inject, provide, type App, type InjectionKey } from 'vue';
import type { StreampodClient } from '../client.js';
import { PresenceTracker } from '../presence/presence-tracker.js';

/** What `provideStreampod` and the plugin make available to `usePresence`. */
export interface StreampodContext {
  readonly client: StreampodClient;
  readonly tracker: PresenceTracker;
}

export interface StreampodProvideOptions {
  /** Shares one tracker with code outside Vue. @default a tracker of its own for the client */
  tracker?: PresenceTracker;
}

/** A Vue plugin: `app.use(createStreampod(client))`. */
export interface StreampodPlugin extends StreampodContext {
  install(app: App): void;
}

const streampodKey: InjectionKey<StreampodContext> = Symbol('streampod');

function contextOf(client: StreampodClient, options: StreampodProvideOptions): StreampodContext {
  return { client, tracker: options.tracker ?? new PresenceTracker(client) };
}

/** Provides `client` (and one presence tracker) to the components below; call it inside `setup`. */
export function provideStreampod(client: StreampodClient, options: StreampodProvideOptions = {}): StreampodContext {
  const context = contextOf(client, options);
  provide(streampodKey, context);
  return context;
}

/** Provides `client` (and one presence tracker) to the whole app. */
export function createStreampod(client: StreampodClient, options: StreampodProvideOptions = {}): StreampodPlugin {
  const context = contextOf(client, options);
  return { ...context, install: (app) => void app.provide(streampodKey, context) };
}

function useStreampodContext(composable: string): StreampodContext {
  // The `null` default keeps Vue from warning before we throw a clearer error.
  const context = inject(streampodKey, null);
  if (context === null) {
    throw new Error(
      `${composable}: no streampod client; use provideStreampod(client) or app.use(createStreampod(client))`,
    );
  }
  return context;
}

/** The provided client. */
export function useStreampodClient(): StreampodClient {
  return useStreampodContext('useStreampodClient').client;
}

/** The provided presence tracker, shared by every `usePresence`. */
export function usePresenceTracker(): PresenceTracker {
  return useStreampodContext('usePresenceTracker').tracker;
}
