/**
 * The chat server in this process, for benchmarks: an in-memory embedded database with
 * `users` users made directly (no password hashing), and the server over them, not listening.
 */
import { createLogger } from '@streampod/framework';
import { createChatApp, openDatabase, RedisLink, TokenService } from '@streampod/server';

export async function benchChatServer(opts: {
  users: number;
  heartbeatIntervalMs?: number;
  /** Shares the bus and stores through this Redis (a benchmark's own), as every node of a cluster does. */
  redisUrl?: string;
}) {
  const database = await openDatabase({ dataDir: 'memory' });
  const log = createLogger('silent');
  const tokens = new TokenService({ secret: new TextEncoder().encode('bench-secret-bench-secret-bench-secret') });
  const users = await database.db
    .insertInto('users')
    .values(
      Array.from({ length: opts.users }, (_, i) => ({
        username: `u${i}`,
        usernameKey: `u${i}`,
        displayName: `User ${i}`,
        passwordHash: 'x',
      })),
    )
    .returning(['id', 'username'])
    .execute();
  const redis = opts.redisUrl === undefined ? undefined : await RedisLink.connect({ url: opts.redisUrl, log });
  // The embedded database runs one statement at a time: one writer, as the chat server runs it.
  const { server, services, close } = await createChatApp({
    ...(redis === undefined ? {} : { redis }),
    nodeId: 'bench',
    db: database.db,
    log,
    tokens,
    concurrentWrites: 1,
    // A load generator sends as fast as the server takes it.
    rateLimits: false,
    server: opts.heartbeatIntervalMs === undefined ? {} : { heartbeatIntervalMs: opts.heartbeatIntervalMs },
  });
  return {
    server,
    services,
    tokens,
    users,
    close: async () => {
      await close();
      await redis?.close();
      await database.close();
    },
  };
}
