import { createLogger, type FanoutBus, type StreampodServer, type StreampodServerOptions } from '@streampod/framework';
import { loadInstallation } from '../auth/auth-service.js';
import { TokenService } from '../auth/tokens.js';
import type { RateLimits } from '../app/rate-limits.js';
import { openDatabase, type Database } from '../db/index.js';
import { createChatApp } from '../app/chat-app.js';
import type { ChatContext, Services } from '../endpoints/streampod.js';
import type { Membership } from '../presence/membership.js';
import type { PresenceStore } from '../presence/presence-store.js';
import type { TypingStore } from '../chat/typing-store.js';
import type { RedisLink } from '../redis/redis-link.js';

export interface ChatTestServer extends AsyncDisposable {
  readonly server: StreampodServer<ChatContext>;
  readonly services: Services;
  readonly database: Database;
  readonly tokens: TokenService;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** `ws://127.0.0.1:<port>/trpc` */
  readonly wsUrl: string;
  close(): Promise<void>;
}

export interface ChatTestServerOptions extends Partial<
  Pick<
    StreampodServerOptions<ChatContext>,
    'heartbeatIntervalMs' | 'presenceTimeoutMs' | 'maxBufferedBytes' | 'shutdownGraceMs' | 'shutdownHandoffMs'
  >
> {
  /** @default a fresh in-memory PGlite database, closed with the server */
  database?: Database;
  /** @default nobody shares a room */
  membership?: Membership;
  /** @default in memory (pass one shared by two servers to test two nodes in one process) */
  presenceStore?: PresenceStore;
  /** @default in memory */
  bus?: FanoutBus;
  /** @default in memory */
  typingStore?: TypingStore;
  /** Redis for whatever of bus and stores is not given. */
  redis?: RedisLink;
  /** @default a fresh one per server */
  nodeId?: string;
  nodeLeaseMs?: number;
  idleAfterMs?: number;
  presenceBatchMs?: number;
  roomPresenceListLimit?: number;
  typingTimeoutMs?: number;
  maxCatchUp?: number;
  /** @default none: tests that are not about limits send as fast as they like */
  rateLimits?: Partial<RateLimits>;
  /** Access tokens of sign-ins with refresh live this long. @default 900 */
  accessTtlSeconds?: number;
  /** @default 30_000 (see `TokenServiceOptions.refreshRetryGraceMs`) */
  refreshRetryGraceMs?: number;
}

let nodes = 0;

const SECRET = new TextEncoder().encode('test-secret-test-secret-test-secret!');

/**
 * A real chat server on a free loopback port, for tests:
 * `await using server = await startChatTestServer()`.
 */
export async function startChatTestServer(opts: ChatTestServerOptions = {}): Promise<ChatTestServer> {
  const ownsDatabase = opts.database === undefined;
  const database = opts.database ?? (await openDatabase({ dataDir: 'memory' }));
  const tokens = new TokenService({
    secret: SECRET,
    installation: await loadInstallation(database.db),
    ...(opts.accessTtlSeconds === undefined ? {} : { accessTtlSeconds: opts.accessTtlSeconds }),
    ...(opts.refreshRetryGraceMs === undefined ? {} : { refreshRetryGraceMs: opts.refreshRetryGraceMs }),
  });
  const log = createLogger(
    process.env['TEST_LOG_LEVEL'] === undefined ? 'silent' : (process.env['TEST_LOG_LEVEL'] as 'info'),
  );
  const {
    server,
    services,
    close: closeApp,
  } = await createChatApp({
    db: database.db,
    dbLatency: database.latency,
    log,
    tokens,
    nodeId: opts.nodeId ?? `test-${++nodes}`,
    ...(opts.redis === undefined ? {} : { redis: opts.redis }),
    ...(opts.bus === undefined ? {} : { bus: opts.bus }),
    ...(opts.typingStore === undefined ? {} : { typingStore: opts.typingStore }),
    ...(opts.nodeLeaseMs === undefined ? {} : { nodeLeaseMs: opts.nodeLeaseMs }),
    ...(opts.membership === undefined ? {} : { membership: opts.membership }),
    ...(opts.presenceStore === undefined ? {} : { store: opts.presenceStore }),
    ...(opts.idleAfterMs === undefined ? {} : { idleAfterMs: opts.idleAfterMs }),
    ...(opts.presenceBatchMs === undefined ? {} : { presenceBatchMs: opts.presenceBatchMs }),
    ...(opts.roomPresenceListLimit === undefined ? {} : { roomPresenceListLimit: opts.roomPresenceListLimit }),
    ...(opts.typingTimeoutMs === undefined ? {} : { typingTimeoutMs: opts.typingTimeoutMs }),
    ...(opts.maxCatchUp === undefined ? {} : { maxCatchUp: opts.maxCatchUp }),
    rateLimits: opts.rateLimits ?? false,
    concurrentWrites: database.kind === 'pglite' ? 1 : 4,
    server: {
      ...(opts.heartbeatIntervalMs === undefined ? {} : { heartbeatIntervalMs: opts.heartbeatIntervalMs }),
      ...(opts.presenceTimeoutMs === undefined ? {} : { presenceTimeoutMs: opts.presenceTimeoutMs }),
      ...(opts.maxBufferedBytes === undefined ? {} : { maxBufferedBytes: opts.maxBufferedBytes }),
      shutdownGraceMs: opts.shutdownGraceMs ?? 500,
      shutdownHandoffMs: opts.shutdownHandoffMs ?? 0,
    },
  });
  const { url, port } = await server.listen({ port: 0, host: '127.0.0.1' });
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await closeApp();
      if (ownsDatabase) await database.close();
    })());
  return {
    server,
    services,
    database,
    tokens,
    url,
    wsUrl: `ws://127.0.0.1:${port}/trpc`,
    close,
    [Symbol.asyncDispose]: close,
  };
}
