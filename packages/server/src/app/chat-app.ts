import type { ServerHooks, StreampodServer, StreampodServerOptions } from '@streampod/framework';
import { AuthService } from '../auth/auth-service.js';
import { databaseInputError } from '../db/input-errors.js';
import type { StoreLatency } from '../util/store-latency.js';
import { sp, type ChatContext, type Services } from '../endpoints/streampod.js';
import { appEndpoints } from './endpoints.js';
import { RateLimiter, type RateLimits } from './rate-limits.js';
import { createAppServices, type AppServicesOptions } from './services.js';

/** What the chat server is, not yet listening: its services and the framework server over them. */
export interface ChatApp {
  readonly server: StreampodServer<ChatContext>;
  readonly services: Services;
  /** Stops the server (streams end, users go offline), then the services. The database stays open: it is the caller's. */
  readonly close: () => Promise<void>;
}

export interface ChatAppOptions extends AppServicesOptions {
  /** Framework server settings (heartbeats, buffers, shutdown, static files…). */
  server?: Omit<
    StreampodServerOptions<ChatContext>,
    'endpoints' | 'services' | 'authenticate' | 'hooks' | 'logger' | 'health'
  >;
  /** Wraps the presence hooks (a benchmark counts connections with it). @default as they are */
  hooks?: (hooks: ServerHooks<ChatContext>) => ServerHooks<ChatContext>;
  /** The database's query times (`Database.latency`), shown on `/metrics`. @default not shown */
  dbLatency?: StoreLatency;
  /** Per-user limits on messages, typing, status changes, reactions and rooms; `false`: none. @default `defaultRateLimits` */
  rateLimits?: Partial<RateLimits> | false;
}

/**
 * The chat server's one composition: services, endpoints, token authentication, presence
 * hooks and health, on `sp`. The runnable server, the test server and the benchmarks all
 * build it here, so none of them drifts from what ships.
 */
export async function createChatApp(opts: ChatAppOptions): Promise<ChatApp> {
  const { server: settings, hooks: wrap, rateLimits, dbLatency, ...appOptions } = opts;
  const app = await createAppServices(appOptions);
  const limiter = rateLimits === false ? undefined : new RateLimiter(rateLimits);
  const server = sp.server({
    ...settings,
    beforeCall: [...(settings?.beforeCall ?? []), ...(limiter === undefined ? [] : [limiter.beforeCall])],
    endpoints: appEndpoints,
    services: app.services,
    translateError: databaseInputError,
    authenticate: (token) => app.services.auth.verify(token),
    hooks: wrap === undefined ? app.hooks : wrap(app.hooks),
    logger: opts.log,
    health: app.health,
  });
  server.metrics.include(app.metrics.registry);
  if (dbLatency !== undefined) server.metrics.include(dbLatency.registry);
  if (opts.redis !== undefined) server.metrics.include(opts.redis.latency.registry);
  // A token signed out on any node closes its connections here too.
  const stopRevocations = await app.services.auth.onRevoked((revocation) =>
    server.disconnectUser(revocation.userId, { only: (credentials) => AuthService.ends(revocation, credentials) }),
  );
  // Revocations published while the bus was away never came: check the live tokens again.
  const stopRecheck = app.services.auth.onResync(() => {
    const live = [...server.connections].flatMap((c) => (c.credentials === null ? [] : [c.credentials]));
    app.services.auth.fallen(live).then(
      (fallen) => {
        for (const gone of fallen)
          server.disconnectUser(gone.user.id, {
            only: (credentials) => credentials.tokenId === gone.tokenId && credentials.user.epoch === gone.user.epoch,
          });
      },
      (error: unknown) => opts.log.warn({ err: error }, 'auth: re-checking tokens after a bus outage failed'),
    );
  });
  return {
    server,
    services: app.services,
    close: async () => {
      stopRevocations();
      stopRecheck();
      limiter?.close();
      await server.close();
      await app.close();
    },
  };
}
