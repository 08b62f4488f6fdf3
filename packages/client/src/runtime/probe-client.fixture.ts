import { createApiClient, type ApiClientOptions } from './client.js';
import type { CallProcedure, StreamProcedure } from './procedure-types.js';

// The framework's probe app as a generated client would see it (`.fixture.ts`: test helpers, kept out of the build).

/** The probe app's API, as `pnpm generate` would describe it. */
export interface ProbeApi {
  counter: {
    add: CallProcedure<'query', { a: number; b: number }, number>;
    count: StreamProcedure<{ to: number }, number, false>;
    watch: StreamProcedure<void, string, false>;
  };
  probe: {
    stream: StreamProcedure<{ lastEventId?: string } | undefined, { text: string; at: Date }, true>;
    sendStreamMessage: CallProcedure<
      'mutation',
      { kind: 'echo'; text: string } | { kind: 'stamp'; cursor: string },
      void
    >;
  };
}
export const probeManifest = {
  counter: {
    add: { kind: 'query', tracked: false },
    count: { kind: 'subscription', tracked: false },
    watch: { kind: 'subscription', tracked: false },
  },
  probe: { stream: { kind: 'subscription', tracked: true }, sendStreamMessage: { kind: 'mutation', tracked: false } },
} as const;

/** No WebSocket passed unless given: on Node 20 the runtime loads `ws` by itself. */
export function probeClient(url: string, opts: Partial<ApiClientOptions> = {}) {
  return createApiClient<ProbeApi>(probeManifest, {
    url,
    reconnect: { initialDelayMs: 10, maxDelayMs: 100 },
    keepAlive: { intervalMs: 200, pongTimeoutMs: 200 },
    ...opts,
  });
}
