import { createApiClient, type ApiClient, type ApiClientOptions } from '@streampod/client/runtime';
import { apiManifest, type CounterApi } from './generated/api.js';

/** The live counter's typed client: `await client.counter.increment({ name })`, `client.counter.watch({ name })`. */
export type CounterClient = ApiClient<CounterApi>;

/** A client for the live counter server (superjson, the framework's default transformer). */
export function createCounterClient(opts: ApiClientOptions): CounterClient {
  return createApiClient<CounterApi>(apiManifest, opts);
}
