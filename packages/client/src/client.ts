import { transformer } from '@streampod/protocol';
import { apiManifest, type StreampodApi } from './generated/api.js';
import { createApiClient, type ApiClient, type ApiClientOptions } from './runtime/client.js';

/** Options of the chat server's client (its transformer is the contract's). */
export type StreampodClientOptions = Omit<ApiClientOptions, 'transformer'>;

/** The chat server's client: every endpoint, typed, plus connection control. */
export type StreampodClient = ApiClient<StreampodApi>;

/**
 * The chat server's typed client. Calls read Serverpod-style: `await client.users.me()`,
 * `for await (const batch of client.presence.subscribeToPresence({ userIds }))`.
 */
export function createStreampodClient(opts: StreampodClientOptions): StreampodClient {
  return createApiClient<StreampodApi>(apiManifest, { ...opts, transformer });
}
