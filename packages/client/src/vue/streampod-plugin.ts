import { inject, provide, type App, type InjectionKey } from 'vue';
import type { StreampodClient } from '../client.js';
import type { PresenceTracker } from '../presence/presence-tracker.js';
import type { ClientConnection } from '../runtime/client.js';

/** What `provideStreampod` and the plugin make available to the composables. */
export interface StreampodContext {
  readonly client: ClientConnection;
  /** The presence tracker given, if any (else the client's shared one is used). */
  readonly tracker: PresenceTracker | undefined;
}

export interface StreampodProvideOptions {
  /** Shares one presence tracker with code outside Vue. @default one of its own per client, made on first use */
  tracker?: PresenceTracker;
}

/** A Vue plugin: `app.use(createStreampod(client))`. */
export interface StreampodPlugin extends StreampodContext {
  install(app: App): void;
}

const streampodKey: InjectionKey<StreampodContext> = Symbol('streampod');

/** Provides `client` (any streampod client) to the components below; call it inside `setup`. */
export function provideStreampod(client: ClientConnection, options: StreampodProvideOptions = {}): StreampodContext {
  const context = { client, tracker: options.tracker };
  provide(streampodKey, context);
  return context;
}

/** Provides `client` (any streampod client) to the whole app. */
export function createStreampod(client: ClientConnection, options: StreampodProvideOptions = {}): StreampodPlugin {
  const context = { client, tracker: options.tracker };
  return { ...context, install: (app) => void app.provide(streampodKey, context) };
}

/** @internal the provided context */
export function useStreampodContext(composable: string): StreampodContext {
  // The `null` default keeps Vue from warning before we throw a clearer error.
  const context = inject(streampodKey, null);
  if (context === null) {
    throw new Error(
      `${composable}: no streampod client; use provideStreampod(client) or app.use(createStreampod(client))`,
    );
  }
  return context;
}

/** The provided client, typed as you say it is (the chat's client by default). */
export function useStreampodClient<TClient extends ClientConnection = StreampodClient>(): TClient {
  return useStreampodContext('useStreampodClient').client as TClient;
}
