import type { EndpointMap } from '../core/endpoint.js';
import { TokenService } from '../auth/tokens.js';
import { openDatabase, type Database } from '../db/index.js';
import { createLogger } from '../observability/logger.js';
import { StreampodServer, type ServerHooks, type StreampodServerOptions } from '../server.js';
import { appEndpoints } from '../app/endpoints.js';
import { createAppServices } from '../app/services.js';
import type { Services } from '../core/services.js';
import type { Membership } from '../presence/membership.js';
import type { PresenceStore } from '../presence/presence-store.js';

/** Runs both sets of hooks, the app's first. */
function combineHooks(first: ServerHooks, second: ServerHooks | undefined): ServerHooks {
  if (second === undefined) return first;
  return {
    onConnectionOpen: async (c) => {
      await first.onConnectionOpen?.(c);
      await second.onConnectionOpen?.(c);
    },
    onConnectionClose: async (c) => {
      await first.onConnectionClose?.(c);
      await second.onConnectionClose?.(c);
    },
    onCall: (c, path, type) => {
      first.onCall?.(c, path, type);
      second.onCall?.(c, path, type);
    },
  };
}

export interface TestServer extends AsyncDisposable {
  readonly server: StreampodServer;
  readonly services: Services;
  readonly database: Database;
  readonly tokens: TokenService;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** `ws://127.0.0.1:<port>/trpc` */
  readonly wsUrl: string;
  close(): Promise<void>;
}

export interface TestServerOptions extends Partial<
  Pick<StreampodServerOptions, 'heartbeatIntervalMs' | 'presenceTimeoutMs' | 'maxBufferedBytes' | 'shutdownGraceMs'>
> {
  /** @default the chat app's endpoints */
  endpoints?: EndpointMap;
  /** @default a fresh in-memory PGlite database, closed with the server */
  database?: Database;
  /** Extra connection hooks, run after the app's own (presence). */
  hooks?: ServerHooks;
  /** @default nobody shares a room */
  membership?: Membership;
  /** @default in memory */
  presenceStore?: PresenceStore;
  idleAfterMs?: number;
  presenceBatchMs?: number;
  typingTimeoutMs?: number;
  maxCatchUp?: number;
}

const SECRET = new TextEncoder().encode('test-secret-test-secret-test-secret!');

/** A real server on a free loopback port, for tests: `await using server = await startTestServer()`. */
export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const ownsDatabase = opts.database === undefined;
  const database = opts.database ?? (await openDatabase({ dataDir: 'memory' }));
  const tokens = new TokenService({ secret: SECRET });
  const log = createLogger(
    process.env['TEST_LOG_LEVEL'] === undefined ? 'silent' : (process.env['TEST_LOG_LEVEL'] as 'info'),
  );
  const app = createAppServices({
    db: database.db,
    log,
    tokens,
    ...(opts.membership === undefined ? {} : { membership: opts.membership }),
    ...(opts.presenceStore === undefined ? {} : { store: opts.presenceStore }),
    ...(opts.idleAfterMs === undefined ? {} : { idleAfterMs: opts.idleAfterMs }),
    ...(opts.presenceBatchMs === undefined ? {} : { presenceBatchMs: opts.presenceBatchMs }),
    ...(opts.typingTimeoutMs === undefined ? {} : { typingTimeoutMs: opts.typingTimeoutMs }),
    ...(opts.maxCatchUp === undefined ? {} : { maxCatchUp: opts.maxCatchUp }),
  });
  const server = new StreampodServer({
    endpoints: opts.endpoints ?? appEndpoints,
    database,
    services: app.services,
    logger: log,
    hooks: combineHooks(app.hooks, opts.hooks),
    ...(opts.heartbeatIntervalMs === undefined ? {} : { heartbeatIntervalMs: opts.heartbeatIntervalMs }),
    ...(opts.presenceTimeoutMs === undefined ? {} : { presenceTimeoutMs: opts.presenceTimeoutMs }),
    ...(opts.maxBufferedBytes === undefined ? {} : { maxBufferedBytes: opts.maxBufferedBytes }),
    shutdownGraceMs: opts.shutdownGraceMs ?? 500,
  });
  const { url, port } = await server.listen({ port: 0, host: '127.0.0.1' });
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await server.close();
      await app.close();
      if (ownsDatabase) await database.close();
    })());
  return {
    server,
    services: app.services,
    database,
    tokens,
    url,
    wsUrl: `ws://127.0.0.1:${port}/trpc`,
    close,
    [Symbol.asyncDispose]: close,
  };
}
