import { allowOrigins, createLogger, type Logger, type StreampodServer } from '@streampod/framework';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { loadInstallation } from '../auth/auth-service.js';
import { loadAuthSecret } from '../auth/secret.js';
import { TokenService } from '../auth/tokens.js';
import { openDatabase, type Database } from '../db/index.js';
import { RedisLink } from '../redis/redis-link.js';
import type { ChatServerConfig } from './config.js';
import type { ChatContext } from '../endpoints/streampod.js';
import { createChatApp } from './chat-app.js';

const MIB = 1024 * 1024;

/** A running chat server and what it owns. */
export interface ChatServer {
  readonly server: StreampodServer<ChatContext>;
  readonly database: Database;
  readonly url: string;
  readonly port: number;
  /** Graceful stop: streams end (their hooks run), then the database closes. */
  close(): Promise<void>;
}

/** Starts the chat server described by `config` (see `readConfig`). */
export async function startChatServer(config: ChatServerConfig, logger?: Logger): Promise<ChatServer> {
  const log =
    logger ??
    createLogger({
      level: config.LOG_LEVEL,
      service: 'chat-server',
      pretty: config.LOG_FORMAT === 'auto' ? 'auto' : config.LOG_FORMAT === 'pretty',
    });
  const dataDir = resolve(config.DATA_DIR);
  const database = await openDatabase({
    url: config.DATABASE_URL,
    dataDir,
    onMigration: (name) => log.info({ migration: name }, 'migration applied'),
    onConnectionError: (error) => log.warn({ err: error }, 'a pooled database connection failed'),
  });
  let redis: RedisLink | undefined;
  try {
    redis = config.REDIS_URL === undefined ? undefined : await RedisLink.connect({ url: config.REDIS_URL, log });
    const tokens = new TokenService({
      // Several nodes share a generated secret through the database.
      secret: await loadAuthSecret(config.AUTH_SECRET, dataDir, redis === undefined ? undefined : database.db),
      ttlSeconds: config.TOKEN_TTL_SECONDS,
      accessTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
      refreshTtlSeconds: config.REFRESH_TOKEN_TTL_SECONDS,
      // A token names its installation: another one's is refused even under the same AUTH_SECRET.
      installation: await loadInstallation(database.db),
    });
    const webDir = config.WEB_DIR === undefined ? undefined : resolve(config.WEB_DIR);
    const nodeId = `${
      hostname()
        .replace(/[^\w.-]/g, '')
        .slice(0, 32) || 'node'
    }-${process.pid}-${randomBytes(3).toString('hex')}`;
    const { server, close: closeApp } = await createChatApp({
      db: database.db,
      dbLatency: database.latency,
      log,
      tokens,
      nodeId,
      ...(redis === undefined ? {} : { redis }),
      nodeLeaseMs: config.NODE_LEASE_MS,
      idleAfterMs: config.IDLE_AFTER_MS,
      presenceBatchMs: config.PRESENCE_BATCH_MS,
      roomPresenceListLimit: config.ROOM_PRESENCE_LIST_LIMIT,
      rateLimits: {
        messages: config.RATE_LIMIT_MESSAGES,
        typing: config.RATE_LIMIT_TYPING,
        presence: config.RATE_LIMIT_PRESENCE,
        reactions: config.RATE_LIMIT_REACTIONS,
        rooms: config.RATE_LIMIT_ROOMS,
        signIn: config.RATE_LIMIT_SIGN_IN,
      },
      typingTimeoutMs: config.TYPING_TIMEOUT_MS,
      concurrentWrites: database.kind === 'pglite' ? 1 : 4,
      server: {
        heartbeatIntervalMs: config.HEARTBEAT_INTERVAL_MS,
        presenceTimeoutMs: config.PRESENCE_TIMEOUT_MS,
        connectionCaps: {
          total: config.MAX_CONNECTIONS,
          perAddress: config.MAX_CONNECTIONS_PER_IP,
          perUser: config.MAX_CONNECTIONS_PER_USER,
          httpPerAddress: config.MAX_HTTP_CONNECTIONS_PER_IP,
        },
        authTimeoutMs: config.AUTH_TIMEOUT_MS,
        anonymousIdleMs: config.ANONYMOUS_IDLE_MS,
        maxBufferedBytes: config.MAX_UNSENT_MIB_PER_CONNECTION * MIB,
        maxTotalBufferedBytes: config.MAX_UNSENT_MIB * MIB,
        httpHeadersTimeoutMs: config.HTTP_HEADERS_TIMEOUT_MS,
        httpRequestTimeoutMs: config.HTTP_REQUEST_TIMEOUT_MS,
        connectionGate: allowOrigins(config.ALLOWED_ORIGINS),
        corsOrigins: config.ALLOWED_ORIGINS,
        ...(webDir !== undefined && existsSync(webDir) ? { staticDir: webDir } : {}),
      },
    });
    const { port, url, address } = await server.listen({ port: config.PORT, host: config.HOST });
    log.info(
      {
        address,
        url,
        database: database.kind,
        node: nodeId,
        redis: redis === undefined ? 'none' : redis.isCluster ? 'cluster' : 'single',
      },
      `chat server listening on ${address} (open ${url})`,
    );
    return {
      server,
      database,
      url,
      port,
      async close() {
        // Streams end and users go offline (last seen saved) before the database closes.
        await closeApp();
        await redis?.close();
        await database.close();
      },
    };
  } catch (error) {
    await redis?.close();
    await database.close();
    throw error;
  }
}
